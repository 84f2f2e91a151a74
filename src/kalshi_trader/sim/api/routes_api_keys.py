"""API key management of the embedded exchange (``/api_keys``), for the signed-in account.

Contract (openapi.yaml, https://docs.kalshi.com/getting_started/api_keys):
- ``GET /api_keys`` → ``{"api_keys": [{api_key_id, name, scopes}]}``: the caller's keys, oldest
  first.
- ``POST /api_keys`` ``{name, public_key, scopes?, subaccount?}`` registers the caller's own
  Ed25519 or RSA public key (SPKI PEM) → 201 ``{api_key_id}``; requests signed with the matching
  private key are accepted from then on. As on Kalshi this needs the Premier usage level or above
  (the key's rate-limit tier): 403 below it.
- ``POST /api_keys/generate`` ``{name, key_type?, scopes?, subaccount?}`` makes a key pair of
  ``key_type`` (``rsa`` when omitted, as documented) → 201 ``{api_key_id, key_type, private_key}``:
  the private key PEM (PKCS#8 for ``ed25519``, PKCS#1 for ``rsa``) is in this answer only.
- ``DELETE /api_keys/{api_key}`` → 204; another account's or an unknown key is 404. A deleted key
  signs nothing any more.
- Unsigned calls are 401. Bad input is 400 naming the field: a public key that is not an Ed25519 or
  RSA SPKI PEM (a private key pasted by mistake is refused without echoing it), an unknown scope,
  ``write`` without ``read``, a subaccount other than 0 (the only one here).
  ``fcm_subtrader_id`` is 403 (FCM members only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kalshi_trader.kalshi.auth import KeyType, generate_private_key, parse_public_key, private_key_pem
from kalshi_trader.kalshi.limits import TIERS
from kalshi_trader.sim.api.api_keys import DEFAULT_SCOPES, SCOPES, ApiKeyRecord, ApiKeys
from kalshi_trader.sim.api.params import Shape, decode_object, get_enum, get_int, get_list, get_nonempty_str, invalid
from kalshi_trader.sim.api.rest_support import deps, principal, respond
from kalshi_trader.sim.core.state import ExchangeError

P = "/trade-api/v2/api_keys"
REGISTER_TIER = "premier"
"""The lowest usage level allowed to register its own public key."""

KEYS: web.AppKey[ApiKeys] = web.AppKey("api_keys", ApiKeys)
routes = web.RouteTableDef()

CREATE = Shape(required=("name", "public_key"), optional=("scopes", "subaccount", "fcm_subtrader_id"))
GENERATE = Shape(required=("name",), optional=("key_type", "scopes", "subaccount", "fcm_subtrader_id"))
WHERE = "API key request"


def install(app: web.Application, keys: ApiKeys) -> None:
    """Serve ``keys`` under ``/api_keys`` on an exchange application."""
    app[KEYS] = keys
    app.add_routes(routes)


def _scopes(body: Mapping[str, Any], where: str) -> tuple[str, ...]:
    given = get_list(body, "scopes", where)
    if given is None:
        return DEFAULT_SCOPES
    for scope in given:
        if scope not in SCOPES:
            raise invalid(f"field 'scopes' in {where}: unknown scope {scope!r}; known: {', '.join(SCOPES)}")
    if "write" in given and "read" not in given:
        raise invalid(f"field 'scopes' in {where}: the 'write' scope needs 'read' too")
    return tuple(dict.fromkeys(given))


async def _key_request(request: web.Request, shape: Shape) -> tuple[dict[str, Any], str, tuple[str, ...]]:
    """The body, name and scopes of a create/generate request; refuses what this exchange has not."""
    body = decode_object(await request.read())
    shape.check(body, WHERE)
    if body.get("fcm_subtrader_id") is not None:
        raise ExchangeError(403, "forbidden", "fcm_subtrader_id is for FCM members only")
    sub = get_int(body, "subaccount", WHERE, lo=0, hi=63)
    if sub not in (None, 0):
        raise invalid(f"subaccount {sub} does not exist; this exchange has only the primary account (subaccount 0)")
    return body, get_nonempty_str(body, "name", WHERE), _scopes(body, WHERE)


def _listed(record: ApiKeyRecord) -> dict[str, Any]:
    return {"api_key_id": record.key_id, "name": record.name, "scopes": list(record.scopes)}


@routes.get(P)
async def list_keys(request: web.Request) -> web.Response:
    keys = request.app[KEYS].for_user(principal(request).user_id)
    return respond({"api_keys": [_listed(r) for r in keys]})


@routes.post(P)
async def create_key(request: web.Request) -> web.Response:
    caller = principal(request)
    body, name, scopes = await _key_request(request, CREATE)
    limiter = deps(request).limiter
    if limiter is not None:
        tier = limiter.tier_of(caller.key_id)
        if list(TIERS).index(tier.name) < list(TIERS).index(REGISTER_TIER):
            raise ExchangeError(
                403,
                "forbidden",
                f"registering your own public key needs the Premier API usage level or above (this key: {tier.name}); "
                "use POST /api_keys/generate",
            )
    pem = body["public_key"]
    if not isinstance(pem, str):
        raise invalid(f"field 'public_key' in {WHERE} must be a PEM string")
    try:
        public_key = parse_public_key(pem)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    record = request.app[KEYS].add(caller.user_id, public_key, name=name, scopes=scopes)
    return respond({"api_key_id": record.key_id}, 201)


@routes.post(P + "/generate")
async def generate_key(request: web.Request) -> web.Response:
    caller = principal(request)
    body, name, scopes = await _key_request(request, GENERATE)
    kind = get_enum(body, "key_type", WHERE, KeyType) or KeyType.RSA
    keys = request.app[KEYS]
    # RSA generation takes tens of milliseconds: off the event loop, registered back on it.
    private_key = await asyncio.to_thread(generate_private_key, kind)
    record = keys.add(caller.user_id, private_key.public_key(), name=name, scopes=scopes)
    return respond(
        {"api_key_id": record.key_id, "key_type": kind.value, "private_key": private_key_pem(private_key).decode()},
        201,
    )


@routes.delete(P + "/{api_key}")
async def delete_key(request: web.Request) -> web.Response:
    caller = principal(request)
    key_id = request.match_info["api_key"]
    try:
        request.app[KEYS].remove(caller.user_id, key_id)
    except KeyError:
        raise ExchangeError(404, "not_found", "API key not found") from None
    return web.Response(status=204)
