"""A signed aiohttp client for tests that checks every response against Kalshi's contract.

Contract:
- ``SignedClient(rest_url, key_id, private_key)`` sends requests to ``rest_url`` + path (path
  relative to ``/trade-api/v2``), signing each with ``kalshi.auth.Signer`` over the full path
  without query (``sign=False`` sends no auth headers; ``headers=`` overrides/extends them).
- Every response is decoded and checked (``validate=False`` to skip):
  * 2xx bodies must validate against ``openapi.yaml`` for that method, path and status, with
    ``closed=True`` (no undocumented keys);
  * 429 must be exactly ``{"error": "too many requests"}`` with no ``Retry-After`` header;
  * other errors must be Kalshi's nested ``{"error": {"code", "message", "details"}}`` with
    non-empty ``code`` and ``message``; when openapi.yaml documents a schema for that status the
    body must validate against it too.
- ``Reply`` carries ``status``, decoded ``body`` (JSON or None) and ``headers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
from multidict import CIMultiDictProxy
from tests.support import spec

from kalshi_trader.kalshi.auth import PrivateKey, Signer

JSON = Any


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: JSON
    headers: CIMultiDictProxy[str]

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    @property
    def error_message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message", ""))
        return ""


def check_reply(method: str, path: str, reply: Reply) -> None:
    """Assert ``reply`` is what the documents (and Kalshi's observed error shapes) allow."""
    what = f"{method} {path} -> {reply.status}"
    if 200 <= reply.status < 300:
        spec.validate_response(method, path, reply.status, reply.body, closed=True)
        return
    if reply.status == 429:
        assert reply.body == {"error": "too many requests"}, f"{what}: 429 body is {reply.body!r}"
        assert "Retry-After" not in reply.headers, f"{what}: 429 must not carry Retry-After"
        return
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    assert isinstance(error, dict), f"{what}: error body is not {{'error': {{...}}}}: {reply.body!r}"
    assert set(error) == {"code", "message", "details"}, f"{what}: error keys {sorted(error)}"
    for key in ("code", "message"):
        value = error[key]
        assert isinstance(value, str), f"{what}: error {key} is not a string"
        assert value, f"{what}: empty error {key}"
    assert isinstance(error["details"], str), f"{what}: details must be a string"
    try:
        pointer = spec.response_schema_pointer(method, path, reply.status)
    except AssertionError:
        return  # status not documented for this operation (documentation gap; shape checked above)
    if pointer is not None:
        spec.validate_response(method, path, reply.status, reply.body)


class SignedClient:
    """Test HTTP client for the embedded exchange (or any Kalshi-compatible server)."""

    def __init__(
        self,
        rest_url: str,
        key_id: str | None = None,
        private_key: PrivateKey | None = None,
        *,
        validate: bool = True,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.base_path = urlsplit(self.rest_url).path
        self.signer = Signer(key_id, private_key) if key_id is not None and private_key is not None else None
        self.validate = validate
        self._session = session
        self._own_session = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SignedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def auth_headers(self, method: str, path: str) -> dict[str, str]:
        if self.signer is None:
            raise RuntimeError("this client has no credentials")
        return self.signer.headers(method, self.base_path + path)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | Sequence[tuple[str, str | int]] | None = None,
        json: JSON = None,
        data: bytes | None = None,
        sign: bool = True,
        headers: Mapping[str, str] | None = None,
        validate: bool | None = None,
    ) -> Reply:
        method = method.upper()
        send_headers: dict[str, str] = {}
        if sign and self.signer is not None:
            send_headers.update(self.auth_headers(method, path))
        if json is not None:
            data = msgspec.json.encode(json)
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        pairs = params.items() if isinstance(params, Mapping) else params or ()
        query = [(k, str(v)) for k, v in pairs]  # a sequence repeats a name: ?tickers=A&tickers=B
        async with self.session.request(
            method, self.rest_url + path, params=query, data=data, headers=send_headers
        ) as resp:
            raw = await resp.read()
            body = msgspec.json.decode(raw) if raw else None
            reply = Reply(resp.status, body, resp.headers)
        if self.validate if validate is None else validate:
            check_reply(method, path, reply)
        return reply

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: JSON = None, **kw: Any) -> Reply:
        return await self.request("POST", path, json=json, **kw)

    async def put(self, path: str, json: JSON = None, **kw: Any) -> Reply:
        return await self.request("PUT", path, json=json, **kw)

    async def delete(self, path: str, json: JSON = None, **kw: Any) -> Reply:
        return await self.request("DELETE", path, json=json, **kw)
