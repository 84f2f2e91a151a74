"""Connectivity checks against a Kalshi API (the logic of ``kalshi-trader check``).

Contract: ``run_checks(settings, signer)`` runs, in order, and returns one ``CheckResult`` per line:

1. ``reachable`` — ``GET /exchange/status`` answers (exchange/trading flags and round trip shown);
2. ``authenticated`` — ``signer`` (the configured key, ``rest.signer_from_settings``; None when no
   key id is configured, which fails this check) signs ``GET /portfolio/balance`` and the server
   accepts it; the line names the key type (``Ed25519`` or ``RSA 2048-bit``);
3. ``balance`` — the available cash and portfolio value from that reply;
4. ``clock`` — the local clock against the server's HTTP ``Date`` header: whole seconds, so the
   offset is estimated to ±(0.5 s + half the round trip); it fails when the estimate is further
   than ``max_skew_ms`` (default 2 s) off, since signed requests carry a millisecond timestamp
   the server checks.

A check that cannot run because an earlier one failed is reported failed with the reason
("skipped: ..."). Nothing raises for an API problem: every failure becomes a result whose detail is
one line (Kalshi's code and message, or the transport error). Details never contain key material;
the key id is shortened.
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_trader.config import Settings
from kalshi_trader.domain import Money, format_money
from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import KeyFileError, Signer, describe_key
from kalshi_trader.kalshi.errors import KalshiError
from kalshi_trader.kalshi.rest import KalshiRest, RetryPolicy, signer_from_settings

DEFAULT_MAX_SKEW_MS = 2_000
_DATE_RESOLUTION_MS = 1_000


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def dollars(amount: Money) -> str:
    """``$1,234.56`` (cents shown; sub-cent digits only when present)."""
    text = format_money(abs(amount))
    whole, frac = text.split(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{'-' if amount < 0 else ''}${int(whole):,}.{frac}"


def short_key(key_id: str) -> str:
    return key_id if len(key_id) <= 8 else key_id[:8] + "…"


def _seconds(ms: int) -> str:
    return f"{abs(ms) / 1000:.1f} s"


def clock_result(skew_ms: int | None, rtt_ms: int, max_skew_ms: int = DEFAULT_MAX_SKEW_MS) -> CheckResult:
    """Judge the clock from a probe's ``skew_ms`` (server ``Date`` − local, floored to the second)."""
    if skew_ms is None:
        return CheckResult("clock", False, "the server sent no Date header; cannot compare clocks")
    offset = skew_ms + _DATE_RESOLUTION_MS // 2  # the Date header floors the server time to the second
    margin = _DATE_RESOLUTION_MS // 2 + rtt_ms // 2
    if abs(offset) <= max_skew_ms:
        return CheckResult(
            "clock", True, f"local clock within {_seconds(offset)} of the server's (±{_seconds(margin)}, Date header)"
        )
    direction = "behind" if offset > 0 else "ahead of"
    return CheckResult(
        "clock",
        False,
        f"local clock is about {_seconds(offset)} {direction} the server's; signed requests carry a timestamp "
        "the server checks — synchronise the clock (NTP)",
    )


def _missing_key(settings: Settings) -> str:
    """Why ``settings`` give no key (the one-line hint of ``signer_from_settings``)."""
    try:
        signer_from_settings(settings, required=True)
    except KeyFileError as exc:
        return str(exc)
    return "no API key configured"


async def run_checks(
    settings: Settings, signer: Signer | None, *, max_skew_ms: int = DEFAULT_MAX_SKEW_MS
) -> list[CheckResult]:
    url = settings.rest_url()
    results: list[CheckResult] = []
    quick = RetryPolicy(max_retries=1)
    async with KalshiRest(url, signer, tier=settings.api.tier, timeout_s=settings.api.timeout_s, retry=quick) as rest:
        try:
            probe = await rest.probe()
        except KalshiError as exc:
            results.append(CheckResult("reachable", False, f"{url}: {exc.summary()}"))
            reason = "skipped: the API is not reachable"
            return [*results, *(CheckResult(n, False, reason) for n in ("authenticated", "balance", "clock"))]
        flags = ", ".join(
            f"{name} {'active' if on else 'PAUSED'}"
            for name, on in (("exchange", probe.status.exchange_active), ("trading", probe.status.trading_active))
        )
        results.append(CheckResult("reachable", True, f"{url} ({flags}; {probe.rtt_ms} ms)"))
        if signer is None:
            results.append(CheckResult("authenticated", False, _missing_key(settings)))
            results.append(CheckResult("balance", False, "skipped: no usable API key"))
        else:
            key = f"key {short_key(signer.key_id)} ({describe_key(signer.private_key)})"
            try:
                balance = await rest.get_balance()
            except KalshiError as exc:
                results.append(CheckResult("authenticated", False, f"{key}: {exc.summary()}"))
                results.append(CheckResult("balance", False, "skipped: not authenticated"))
            else:
                results.append(CheckResult("authenticated", True, f"{key} accepted"))
                try:
                    cash, value = convert.balance(balance), convert.portfolio_value(balance)
                except ValueError as exc:
                    results.append(CheckResult("balance", False, f"unreadable balance: {exc}"))
                else:
                    results.append(
                        CheckResult("balance", True, f"{dollars(cash)} available, portfolio value {dollars(value)}")
                    )
        results.append(clock_result(probe.skew_ms, probe.rtt_ms, max_skew_ms))
    return results
