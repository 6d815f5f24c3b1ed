"""Sharely's two-step auth: the API key is exchanged for a short-lived JWT, sent as a bearer token.

``SharelyTokenAuth`` implements the transport's ``Auth`` protocol. The exchange is lazy, cached and
single-flight (one lock: however many calls need a token at once, one of them exchanges and the
others reuse its token); the token is refreshed a minute before its ``exp`` (read from the JWT's
payload without verifying it), and exchanged once more when a call comes back 401. Neither the key
nor the token ever appears in a repr, a log line or an exception.
"""

from __future__ import annotations

import base64
import contextvars
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from .._config import env
from .._exceptions import APIResponseValidationError, ConfigurationError
from .._models import encode
from .._validate import header_value, optional_str

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "MIN_TOKEN_LIFETIME",
    "REFRESH_MARGIN",
    "SharelyTokenAuth",
    "jwt_expiry",
    "token_lifetime",
]

#: Seconds a token without a readable ``exp`` is trusted for.
DEFAULT_TOKEN_LIFETIME = 300.0
#: The shortest time a fresh token is trusted for, whatever its claims say.
MIN_TOKEN_LIFETIME = 1.0
#: Refresh this long before ``exp`` (or a quarter of the token's lifetime when that is shorter).
REFRESH_MARGIN = 60.0

#: Set while this task sends the exchange itself: that request carries the API key instead.
_EXCHANGING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "fini_async_sharely_exchanging", default=False
)


class _TokenBody(msgspec.Struct, omit_defaults=True, rename="camel"):
    role_id: str | None = None
    customer_role_id: str | None = None


_claims_decoder = msgspec.json.Decoder(dict[str, Any])
_TOKEN_KEYS = ("token", "accessToken", "access_token", "jwt")


def _token_of(data: bytes) -> str | None:
    """The token of an exchange answer: ``{"token": ...}`` as documented, tolerating
    ``accessToken``/``access_token``, a ``data`` wrapper, or a bare JSON string."""
    try:
        raw: Any = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(raw, str):
        return raw.strip() or None
    for holder in (raw, raw.get("data") if isinstance(raw, dict) else None):
        if isinstance(holder, dict):
            for key in _TOKEN_KEYS:
                value = holder.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return None


def _claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) < 2 or not parts[1]:
        return {}
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return _claims_decoder.decode(raw)
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, read without verifying the signature; None when
    the token is not a JWT or has no numeric ``exp``."""
    return _number(_claims(token).get("exp"))


def token_lifetime(token: str, now: float, default: float) -> float:
    """Seconds a fresh token can be used for: ``exp - now`` by our clock; when our clock disagrees
    with the server's (``exp`` already past here), ``exp - iat`` by the server's; ``default`` when
    there is no ``exp``. Never less than :data:`MIN_TOKEN_LIFETIME`, so a skewed clock cannot
    turn every request into an exchange (a token the server refuses is exchanged on its 401)."""
    claims = _claims(token)
    exp = _number(claims.get("exp"))
    if exp is None:
        return default
    lifetime = exp - now
    iat = _number(claims.get("iat"))
    if lifetime <= 0 and iat is not None and exp > iat:
        lifetime = exp - iat
    return max(lifetime, MIN_TOKEN_LIFETIME)


class SharelyTokenAuth:
    """Exchanges the API key for access tokens (``POST /workspaces/{id}/generate-access-key-token``)
    and adds ``Authorization: Bearer <token>`` and ``organizationid`` to every other request.

    Missing key, workspace or organization raise :class:`ConfigurationError` at the first request.
    """

    def __init__(
        self,
        api_key: str | None,
        *,
        workspace_id: str | None,
        organization_id: str | None,
        role_id: str | None = None,
        customer_role_id: str | None = None,
        default_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        refresh_margin: float = REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api_key = api_key
        self._workspace_id = workspace_id
        self._organization_id = organization_id
        self._role_id = role_id
        self._customer_role_id = customer_role_id
        self.default_lifetime = default_lifetime
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._bearer: str | None = None
        self._refresh_at = 0.0  # time.monotonic() after which the token is refreshed
        self._lock: anyio.Lock | None = None
        #: How many exchanges this auth made (successful ones).
        self.exchanges = 0

    def __repr__(self) -> str:
        return "SharelyTokenAuth(<hidden>)"

    # -- configuration -------------------------------------------------------------------------

    def api_key(self) -> str:
        key = self._api_key or env("SHARELY_API_KEY")
        if not key:
            raise ConfigurationError(
                "no Sharely API key: pass api_key=... or set the SHARELY_API_KEY environment "
                "variable"
            )
        return key

    def workspace_id(self) -> str:
        ws = self._workspace_id or env("SHARELY_WORKSPACE_ID")
        if not ws:
            raise ConfigurationError(
                "no Sharely workspace: pass workspace_id=... or set SHARELY_WORKSPACE_ID",
                field="workspace_id",
            )
        return ws

    def organization_id(self) -> str:
        org = self._organization_id or env("SHARELY_ORGANIZATION_ID")
        if not org:
            raise ConfigurationError(
                "no Sharely organization: pass organization_id=... or set SHARELY_ORGANIZATION_ID",
                field="organization_id",
            )
        return org

    # -- the Auth protocol ---------------------------------------------------------------------

    def static_headers(self) -> Mapping[str, str] | None:
        return None  # dynamic: headers() is asked on every attempt

    async def headers(self, transport: Transport) -> Mapping[str, str]:
        if _EXCHANGING.get():
            return {"x-api-key": self.api_key()}
        org = self.organization_id()
        bearer = self._bearer
        if bearer is None or time.monotonic() >= self._refresh_at:
            bearer = await self._refresh(transport)
        return {"Authorization": bearer, "organizationid": org}

    async def on_unauthorized(self, transport: Transport, sent: Mapping[str, str]) -> bool:
        if _EXCHANGING.get():
            return False  # the key itself was refused: nothing to refresh
        if sent.get("Authorization") == self._bearer:
            self._bearer = None  # the next headers() exchanges again (once, for everyone)
            self._token = None
        return True

    # -- the exchange --------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget the cached token: the next request exchanges the key again."""
        self._bearer = None
        self._token = None

    async def _refresh(self, transport: Transport) -> str:
        lock = self._lock
        if lock is None:
            lock = self._lock = anyio.Lock()
        async with lock:
            current = self._bearer
            if current is not None and time.monotonic() < self._refresh_at:
                return current  # another call refreshed while this one waited
            return await self._exchange(transport)

    async def _exchange(self, transport: Transport) -> str:
        ws = self.workspace_id()
        # Fail before sending anything (the environment's values are checked here).
        header_value(self.api_key(), "api_key")
        header_value(self.organization_id(), "organization_id")
        path = f"/workspaces/{urllib.parse.quote(ws, safe='')}/generate-access-key-token"
        body = _TokenBody(role_id=self._role_id, customer_role_id=self._customer_role_id)
        reset = _EXCHANGING.set(True)
        try:
            resp = await transport.request("POST", path, content=encode(body))
        finally:
            _EXCHANGING.reset(reset)
        token = _token_of(resp.content)
        if not token:
            # Never echo the body: it may hold a token under a name we do not know.
            raise APIResponseValidationError(
                "the token exchange answered without a 'token'",
                status_code=resp.status,
                method="POST",
                url=transport.base_url + path,
            )
        lifetime = token_lifetime(token, self._clock(), self.default_lifetime)
        margin = min(self.refresh_margin, lifetime / 4)
        self._refresh_at = time.monotonic() + lifetime - margin
        self._token = token
        self._bearer = f"Bearer {token}"
        self.exchanges += 1
        return self._bearer

    @property
    def has_token(self) -> bool:
        return self._bearer is not None


def check_role(role_id: str | None, customer_role_id: str | None) -> None:
    """Both role ids at once is refused by the API (400): refuse it before any request."""
    from .._exceptions import ValidationError

    optional_str(role_id, "role_id")
    optional_str(customer_role_id, "customer_role_id")
    if role_id and customer_role_id:
        raise ValidationError(
            "pass role_id or customer_role_id, not both", field="customer_role_id"
        )
