"""The hot path answers exactly as the documented FastAPI routes do."""

from __future__ import annotations

import json

import httpx

from spikekit.reference_platform.wallet.signing import sign

from .test_api import SECRET, debit, run_api

ROUTE_ONLY = "application/json; charset=utf-8"  # not the hot path's exact type: the route


async def post(
    client: httpx.AsyncClient, operation: str, body: object, content_type: str
) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": content_type, "X-Wallet-Signature": sign(SECRET, raw)}
    return await client.post(f"/v1/providers/aurora/{operation}", content=raw, headers=headers)


def _spin(tag: str, bet: int, win: int) -> dict[str, object]:
    return {
        "player_id": "p000001",
        "round_id": f"r-{tag}",
        "bet_tx_id": f"{tag}-bet",
        "bet": bet,
        "win_tx_id": f"{tag}-win",
        "win": win,
    }


def test_the_hot_path_and_the_route_give_the_same_answers() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        for operation, body in [
            ("debit", debit(tx="h1")),
            ("credit", {"player_id": "p000001", "tx_id": "h2", "round_id": "r1", "amount": 0}),
            (
                "rollback",
                {"player_id": "p000001", "tx_id": "h3", "round_id": "r9", "original_tx_id": "x"},
            ),
            ("debit", debit(5_000, tx="h4")),  # a refusal
            ("bet-and-settle", _spin("h6", 100, 350)),
            ("bet-and-settle", _spin("h7", 5_000, 350)),  # a refused bet: no win
        ]:
            first = await post(client, operation, body, "application/json")
            via_route = await post(client, operation, body, ROUTE_ONLY)
            via_hot_path = await post(client, operation, body, "application/json")
            assert first.status_code == via_route.status_code == via_hot_path.status_code == 200
            assert first.content == via_route.content == via_hot_path.content
            assert via_route.headers["Idempotent-Replayed"] == "true"
            assert via_hot_path.headers["Idempotent-Replayed"] == "true"
            assert "Idempotent-Replayed" not in first.headers
            assert via_hot_path.headers["content-type"] == via_route.headers["content-type"]
        errors = [
            (await post(client, "debit", debit(player="nobody", tx="h5"), ct))
            for ct in (ROUTE_ONLY, "application/json")
        ]
        assert errors[0].status_code == errors[1].status_code == 404
        assert errors[0].json() == errors[1].json()
        metrics = (await client.get("/metrics")).text
        # both ways counted as the route, the same series
        debits = 'method="POST",route="/v1/providers/{provider}/debit"'
        assert f'http_request_duration_seconds_count{{{debits},status="2xx"}} 6.0' in metrics
        assert f'{debits},status="5xx"' not in metrics

    run_api(scenario)
