"""PostgreSQL (asyncpg) and Redis behind the service layer's interfaces."""
