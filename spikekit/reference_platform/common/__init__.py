"""What every service of the reference platform shares: the app with health and metrics
(``service_app``), dependency checks, error answers and body limits (``errors``,
``limits``), the HTTP client for calls between services (``http_client``), who may
call which money operation and how calls are signed (``service_auth``, ``caller_auth``),
PostgreSQL pools and Redis clients (``connections``) and background tasks (``tasks``)."""
