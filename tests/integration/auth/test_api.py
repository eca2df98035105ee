"""The auth API end to end in-process: sessions, errors, metrics, on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import redis

from spikekit.reference_platform.auth.domain import token_digest
from tests.integration.auth.conftest import MakeSettings, login, metric, register, serve


def test_register_login_validate_logout(make_settings: MakeSettings) -> None:
    async def scenario() -> None:
        async with serve(make_settings()) as client:
            player_id = await register(client, "Alice", "correct horse")
            response = await login(client, "alice", "correct horse")
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["player_id"] == player_id and body["expires_in"] == 1800
            token = body["token"]
            validated = await client.post("/sessions/validate", json={"token": token})
            assert validated.status_code == 200
            assert validated.json()["player_id"] == player_id
            assert 1798 <= validated.json()["expires_in"] <= 1800
            assert (await client.post("/logout", json={"token": token})).status_code == 204
            gone = await client.post("/sessions/validate", json={"token": token})
            assert gone.status_code == 401 and gone.json()["error"]["code"] == "INVALID_SESSION"
            again = await client.post("/logout", json={"token": token})
            assert again.status_code == 204  # idempotent

    asyncio.run(scenario())


def test_credentials_and_sessions_are_stored_as_documented(
    make_settings: MakeSettings, auth_dsn: str, auth_redis: str
) -> None:
    async def scenario() -> str:
        async with serve(make_settings()) as client:
            player_id = await register(client, "carol", "correct horse")
            token = (await login(client, "carol", "correct horse")).json()["token"]
        conn = await asyncpg.connect(auth_dsn)
        try:
            row = await conn.fetchrow(
                "SELECT player_id, password_hash FROM auth.credentials WHERE username = 'carol'"
            )
        finally:
            await conn.close()
        assert row["player_id"] == player_id
        assert row["password_hash"].startswith("$argon2id$")
        return str(token)

    token = asyncio.run(scenario())
    client = redis.Redis.from_url(auth_redis)
    try:
        assert client.ttl(f"auth:s:{token_digest(token)}") > 1700
        assert not client.exists(f"auth:s:{token}")  # only the digest is stored
    finally:
        client.close()


def test_taken_username_wrong_password_and_unknown_user(make_settings: MakeSettings) -> None:
    async def scenario() -> None:
        async with serve(make_settings()) as client:
            await register(client, "bob", "correct horse")
            taken = await client.post(
                "/register", json={"username": "BOB", "password": "another one"}
            )
            assert taken.status_code == 409
            assert taken.json()["error"]["code"] == "USERNAME_TAKEN"
            wrong = await login(client, "bob", "wrong password")
            unknown = await login(client, "nobody", "wrong password")
            assert wrong.status_code == unknown.status_code == 401
            assert wrong.json() == unknown.json()  # no hint which one it was
            assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"

    asyncio.run(scenario())


def test_sessions_expire(make_settings: MakeSettings) -> None:
    async def scenario() -> None:
        async with serve(make_settings(auth_session_ttl_s=1)) as client:
            await register(client, "dave", "correct horse")
            token = (await login(client, "dave", "correct horse")).json()["token"]
            live = await client.post("/sessions/validate", json={"token": token})
            assert live.status_code == 200 and live.json()["expires_in"] <= 1
            await asyncio.sleep(1.1)  # past the session's end, cached or not
            expired = await client.post("/sessions/validate", json={"token": token})
            assert expired.status_code == 401

    asyncio.run(scenario())


def test_bad_inputs_get_4xx_json(make_settings: MakeSettings) -> None:
    def code(response: object) -> tuple[int, str]:
        assert hasattr(response, "json") and hasattr(response, "status_code")
        return response.status_code, response.json()["error"]["code"]

    async def scenario() -> None:
        async with serve(make_settings(auth_max_body_bytes=1024)) as client:
            headers = {"content-type": "application/json"}
            malformed = await client.post("/login", content=b'{"username": ', headers=headers)
            assert code(malformed) == (400, "MALFORMED_JSON")
            missing = await client.post("/login", json={"username": "alice"})
            assert code(missing) == (422, "INVALID_REQUEST")
            empty = await client.post("/login", json={"username": "alice", "password": ""})
            assert code(empty) == (422, "INVALID_REQUEST")
            long = await client.post("/login", json={"username": "alice", "password": "x" * 257})
            assert code(long) == (422, "INVALID_REQUEST")
            assert "x" * 257 not in long.text  # the password is never echoed
            short = await client.post("/register", json={"username": "eve", "password": "short"})
            assert code(short) == (422, "INVALID_REQUEST")
            badname = await client.post(
                "/register", json={"username": "a b", "password": "long enough"}
            )
            assert code(badname) == (422, "INVALID_REQUEST")
            huge = await client.post("/login", json={"username": "a", "password": "x" * 2000})
            assert code(huge) == (413, "BODY_TOO_LARGE")
            not_object = await client.post("/sessions/validate", json=["st_x"])
            assert code(not_object) == (422, "INVALID_REQUEST")
            bad_token = await client.post("/sessions/validate", json={"token": "st_x"})
            assert code(bad_token) == (401, "INVALID_SESSION")
            wrong_method = await client.get("/login")
            assert code(wrong_method) == (405, "METHOD_NOT_ALLOWED")

    asyncio.run(scenario())


def test_metrics_and_openapi(make_settings: MakeSettings) -> None:
    async def scenario() -> None:
        async with serve(make_settings()) as client:
            await register(client, "frank", "correct horse")
            token = (await login(client, "frank", "correct horse")).json()["token"]
            await login(client, "frank", "wrong password")
            for _ in range(3):
                await client.post("/sessions/validate", json={"token": token})
            await asyncio.sleep(0.2)  # the gauge refreshes every 0.05 s here
            text = (await client.get("/metrics")).text
            assert metric(text, 'auth_logins_total{outcome="ok"}') == 1
            assert metric(text, 'auth_logins_total{outcome="bad_password"}') == 1
            assert metric(text, 'auth_logins_total{outcome="rate_limited"}') == 0
            assert metric(text, "auth_argon2_verify_seconds_count") == 2
            assert metric(text, 'auth_validation_cache_total{result="miss"}') == 1
            assert metric(text, 'auth_validation_cache_total{result="hit"}') == 2
            assert metric(text, "auth_active_sessions") == 1
            health = await client.get("/health")
            assert health.status_code == 200
            assert health.json()["checks"] == {"postgres": "ok", "redis": "ok"}
            schema = (await client.get("/openapi.json")).json()
            assert {"/register", "/login", "/sessions/validate", "/logout"} <= set(schema["paths"])
            login_doc = schema["paths"]["/login"]["post"]
            assert {"200", "401", "422", "429", "503"} <= set(login_doc["responses"])

    asyncio.run(scenario())


def test_redis_down_gives_503_with_retry_after_not_500(make_settings: MakeSettings) -> None:
    async def scenario() -> None:
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        async with serve(make_settings(redis_url=f"redis://127.0.0.1:{port}/0")) as client:
            await register(client, "gina", "correct horse")  # PostgreSQL only
            response = await login(client, "gina", "correct horse")
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "UNAVAILABLE"
            assert response.headers["Retry-After"] == "1"
            health = await client.get("/health")
            assert health.status_code == 503 and health.json()["checks"]["postgres"] == "ok"

    asyncio.run(scenario())
