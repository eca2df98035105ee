"""``httpx`` auths that sign requests as a service or as a studio (for tools and tests).

    keys = StackKeys.load(state_dir)
    with httpx.Client(base_url=wallet_url, auth=SignedAuth(keys.signer("payments"))) as c:
        c.post("/v1/players/p000001/deposit", json={"amount": 500}, headers=...)

The services themselves sign with :class:`~.service_auth.Signer` on their own client,
the studios with :func:`~spikekit.reference_platform.wallet.signing.signed_headers`.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping

import httpx

from spikekit.reference_platform.common.service_auth import Signer
from spikekit.reference_platform.wallet.signing import SIGNATURE_HEADER, sign

_STUDIO_PATH = re.compile(r"^/v1/providers/([^/]+)/")


class SignedAuth(httpx.Auth):
    """Adds the ``X-Spikekit-*`` headers of ``signer`` over the exact bytes sent."""

    requires_request_body = True

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")  # path and query, as on the request line
        request.headers.update(self.signer.headers(request.method, target, request.content))
        yield request


class StudioAuth(httpx.Auth):
    """Signs the wallet's provider API as the studio the path names (``X-Wallet-Signature``);
    other requests go unsigned."""

    requires_request_body = True

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self.secrets = dict(secrets)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        match = _STUDIO_PATH.match(request.url.path)
        secret = self.secrets.get(match[1]) if match else None
        if secret is not None:
            request.headers[SIGNATURE_HEADER] = sign(secret, request.content)
        yield request
