"""The embedded exchange's account endpoints: the caller's rate-limit tier and the endpoint costs.

Contract (openapi.yaml ``GetAccountApiLimits``, ``GetAccountEndpointCosts``; Kalshi's rate_limits page):
- ``GET /account/limits`` (signed) → ``GetAccountApiLimitsResponse``: the tier the exchange bills
  the calling key at, with the read and write buckets' refill rate and capacity from the same
  table the limiter uses (``kalshi/limits.py``), and one permanent ``manual`` grant of that tier on
  the ``event_contract`` lane. An exchange run without limits reports the top tier.
- ``GET /account/endpoint_costs`` (public) → ``GetAccountEndpointCostsResponse``: the default cost
  and every endpoint costing something else (batches: their cost per item).
"""

from __future__ import annotations

from aiohttp import web

from kalshi_trader.kalshi import schemas as w
from kalshi_trader.kalshi.limits import DEFAULT_COST, TIERS, Bucket, non_default_costs
from kalshi_trader.sim.api.rest_support import deps, principal, respond

ACCOUNT = "/trade-api/v2/account"
LIMITS = ACCOUNT + "/limits"
routes = web.RouteTableDef()


@routes.get(LIMITS)
async def account_limits(request: web.Request) -> web.Response:
    limiter = deps(request).limiter
    tier = limiter.tier_of(principal(request).key_id) if limiter is not None else TIERS["prestige"]
    return respond(
        w.GetAccountApiLimitsResponse(
            usage_tier=tier.name,
            read=w.BucketLimit(refill_rate=tier.rate(Bucket.READ), bucket_capacity=tier.capacity(Bucket.READ)),
            write=w.BucketLimit(refill_rate=tier.rate(Bucket.WRITE), bucket_capacity=tier.capacity(Bucket.WRITE)),
            grants=[w.ApiUsageLevelGrant(exchange_instance="event_contract", level=tier.name, source="manual")],
        )
    )


@routes.get(ACCOUNT + "/endpoint_costs")
async def endpoint_costs(request: web.Request) -> web.Response:
    return respond(
        w.GetAccountEndpointCostsResponse(
            default_cost=DEFAULT_COST,
            endpoint_costs=[w.EndpointTokenCost(method=m, path=p, cost=c) for m, p, c in non_default_costs()],
        )
    )
