"""A small api.weather.gov look-alike on 127.0.0.1 for fair-value tests (never the real API).

Contract:
- ``FakeNws()``; ``await start(prefix="")`` serves on ``127.0.0.1:<free port>`` and returns the base
  URL (``http://127.0.0.1:port{prefix}``); ``await stop()``. Bodies are registered per path with
  ``set(path, body)`` (path without prefix or query; a callable body is called per request with
  the query dict; ``bytes`` are sent as-is, as text/html). Unregistered paths answer 404 with an
  RFC 7807 problem body, as NWS does.
- Like NWS, a request without a ``User-Agent`` gets 403. ``fail(path, *actions)`` queues
  failures served before the registered body: an int is that HTTP status with a problem body,
  ``"hang"`` answers nothing until the server stops, ``"drop"`` closes the connection mid-response.
- ``requests`` records every request (path, query, headers) in order; ``count(path)``.
- ``install_day(...)`` registers a coherent station world (``/points``, raw grid, hourly and
  12-hour forecasts, observations, CLI listing + products) built from one diurnal curve per
  climate day, shaped like api.weather.gov's (docs/weather-model.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from kalshi_trader.fairvalue.stations import Station
from kalshi_trader.fairvalue.weather import climate_day_bounds

JSON = Any
Body = JSON | Callable[[Mapping[str, str]], JSON]


@dataclass(frozen=True, slots=True)
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


def problem(status: int, title: str, detail: str = "") -> dict[str, Any]:
    return {
        "correlationId": "3ed8bace",
        "title": title,
        "type": f"https://api.weather.gov/problems/{title.replace(' ', '')}",
        "status": status,
        "detail": detail,
        "instance": "https://api.weather.gov/requests/3ed8bace",
    }


@dataclass
class FakeNws:
    bodies: dict[str, Body] = field(default_factory=dict)
    failures: dict[str, list[int | str]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    prefix: str = ""
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def set(self, path: str, body: Body) -> None:
        self.bodies[path] = body

    def fail(self, path: str, *actions: int | str) -> None:
        self.failures.setdefault(path, []).extend(actions)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    async def start(self, prefix: str = "") -> str:
        self.prefix = prefix
        app = web.Application()
        app.router.add_get(prefix + "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}{prefix}"
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path[len(self.prefix) :]
        self.requests.append(Seen(path, dict(request.query), dict(request.headers)))
        if not request.headers.get("User-Agent"):
            return web.json_response(problem(403, "Forbidden", "a User-Agent is required"), status=403)
        queue = self.failures.get(path)
        if queue:
            action = queue.pop(0)
            if action == "hang":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 30)
            elif action == "drop":
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            elif isinstance(action, int):
                title = {500: "Unexpected Problem", 503: "Service Unavailable", 429: "Too Many Requests"}
                return web.json_response(
                    problem(action, title.get(action, "Bad Request"), "try again"),
                    status=action,
                    content_type="application/problem+json",
                )
        body = self.bodies.get(path)
        if body is None:
            return web.json_response(problem(404, "Not Found", f"no data for {path}"), status=404)
        payload = body(dict(request.query)) if callable(body) else body
        if isinstance(payload, bytes):  # a broken edge: 200 with something that is not JSON
            return web.Response(body=payload, content_type="text/html")
        ctype = "application/ld+json" if path.startswith("/products") else "application/geo+json"
        return web.json_response(payload, content_type=ctype)

    # -- a coherent world ---------------------------------------------------------------------

    def install_day(
        self,
        station: Station,
        now: datetime,
        *,
        high_f: Callable[[date], float],
        amplitude_f: float = 8.0,
        obs_anomaly_f: float = 0.0,
        grid: tuple[str, int, int] = ("OKX", 33, 37),
        update_time: datetime | None = None,
        cli: Mapping[str, str] | None = None,
    ) -> None:
        """Serve a world whose temperature at LST hour h of climate day d is
        ``high_f(d) − amplitude_f·(1 − cos(2π(h − 15)/24))`` (the maximum at 15:00 LST),
        forecasts of it issued at ``update_time`` (default: an hour before ``now``), observations
        up to ``now`` (the curve + ``obs_anomaly_f``, in 0.1 °C) and the CLI products ``cli``
        (product id → text, listed newest first in the given order)."""
        wfo, gx, gy = grid
        update = update_time or now - timedelta(hours=1)
        # UTC − LST (e.g. 5 h for New York): subtracting it gives local standard time.
        std = climate_day_bounds(now.date(), station.time_zone)[0] - datetime.combine(now.date(), time(0), UTC)

        def temp_f(moment: datetime) -> float:
            lst = moment - std  # naive-ish: UTC shifted by the standard offset
            day = lst.date()
            hour = lst.hour + lst.minute / 60
            return high_f(day) - amplitude_f * (1 - math.cos(2 * math.pi * (hour - 15) / 24))

        def to_c(f: float) -> float:
            return round((f - 32) * 5 / 9, 1)

        hour0 = now.replace(minute=0, second=0, microsecond=0)
        first_day = (now - std).date() - timedelta(days=1)
        days = [first_day + timedelta(days=i) for i in range(5)]
        self.set(
            f"/points/{station.latitude:g},{station.longitude:g}",
            {
                "id": f"https://api.weather.gov/points/{station.latitude:g},{station.longitude:g}",
                "type": "Feature",
                "properties": {
                    "cwa": wfo,
                    "gridId": wfo,
                    "gridX": gx,
                    "gridY": gy,
                    "forecast": f"https://api.weather.gov/gridpoints/{wfo}/{gx},{gy}/forecast",
                    "forecastHourly": f"https://api.weather.gov/gridpoints/{wfo}/{gx},{gy}/forecast/hourly",
                    "forecastGridData": f"https://api.weather.gov/gridpoints/{wfo}/{gx},{gy}",
                    "timeZone": station.time_zone,
                },
            },
        )
        grid_start = climate_day_bounds(first_day, station.time_zone)[0]

        def maxt_start(d: date) -> datetime:
            return climate_day_bounds(d, station.time_zone)[0] + timedelta(hours=7)  # 7 AM–8 PM LST, as NWS codes it

        self.set(
            f"/gridpoints/{wfo}/{gx},{gy}",
            {
                "properties": {
                    "updateTime": update.isoformat(),
                    "gridId": wfo,
                    "gridX": str(gx),
                    "gridY": str(gy),
                    "temperature": {
                        "uom": "wmoUnit:degC",
                        "values": [
                            {
                                "validTime": f"{(grid_start + timedelta(hours=h)).isoformat()}/PT1H",
                                "value": to_c(temp_f(grid_start + timedelta(hours=h))),
                            }
                            for h in range(24 * len(days))
                        ],
                    },
                    "maxTemperature": {
                        "uom": "wmoUnit:degC",
                        "values": [
                            {
                                "validTime": f"{maxt_start(d).isoformat()}/PT13H",
                                "value": (high_f(d) - 32) * 5 / 9,
                            }
                            for d in days
                        ],
                    },
                }
            },
        )

        def periods(step_h: int, count: int, start: datetime) -> list[dict[str, Any]]:
            out = []
            for i in range(count):
                s = start + timedelta(hours=step_h * i)
                daytime = 6 <= (s - std).hour < 18
                value = high_f((s - std).date()) if step_h == 12 and daytime else temp_f(s)
                out.append(
                    {
                        "number": i + 1,
                        "name": "" if step_h == 1 else ("Today" if daytime else "Tonight"),
                        "startTime": s.isoformat(),
                        "endTime": (s + timedelta(hours=step_h)).isoformat(),
                        "isDaytime": daytime,
                        "temperature": round(value),
                        "temperatureUnit": "F",
                        "probabilityOfPrecipitation": {"unitCode": "wmoUnit:percent", "value": None},
                        "windSpeed": "5 mph",
                        "shortForecast": "Sunny",
                    }
                )
            return out

        def forecast(step_h: int, count: int, start: datetime) -> dict[str, Any]:
            return {
                "properties": {
                    "units": "us",
                    "generatedAt": now.isoformat(),
                    "updateTime": update.isoformat(),
                    "periods": periods(step_h, count, start),
                }
            }

        self.set(f"/gridpoints/{wfo}/{gx},{gy}/forecast/hourly", forecast(1, 156, hour0))
        half_day = hour0.replace(hour=(hour0.hour // 12) * 12)
        self.set(f"/gridpoints/{wfo}/{gx},{gy}/forecast", forecast(12, 14, half_day))

        routine = (hour0 - timedelta(hours=h) + timedelta(minutes=51) for h in range(48))  # METARs at :51
        observed = [ts for ts in routine if ts <= now]  # newest first

        def feature(ts: datetime) -> dict[str, Any]:
            value_c = to_c(temp_f(ts) + obs_anomaly_f)
            return {
                "id": f"https://api.weather.gov/stations/{station.icao}/observations/{ts.isoformat()}",
                "properties": {
                    "station": f"https://api.weather.gov/stations/{station.icao}",
                    "timestamp": ts.isoformat(),
                    "rawMessage": f"{station.icao} {ts:%d%H%M}Z AUTO 21008KT 10SM CLR RMK AO2",
                    "temperature": {"unitCode": "wmoUnit:degC", "value": value_c, "qualityControl": "V"},
                    "maxTemperatureLast24Hours": {"unitCode": "wmoUnit:degC", "value": None},
                },
            }

        def observations(query: Mapping[str, str]) -> dict[str, Any]:
            start = datetime.fromisoformat(query["start"]) if "start" in query else now - timedelta(days=1)
            end = datetime.fromisoformat(query["end"]) if "end" in query else now
            inside = [ts for ts in observed if start <= ts <= end][: int(query.get("limit", "500"))]
            return {"type": "FeatureCollection", "features": [feature(ts) for ts in inside]}

        self.set(f"/stations/{station.icao}/observations", observations)
        if observed:
            self.set(f"/stations/{station.icao}/observations/latest", feature(observed[0]))
        products = dict(cli or {})
        self.set(
            f"/products/types/CLI/locations/{station.cli_location}",
            {
                "@context": {"@version": "1.1"},
                "@graph": [
                    {
                        "@id": f"https://api.weather.gov/products/{pid}",
                        "id": pid,
                        "wmoCollectiveId": "CDUS41",
                        "issuingOffice": f"K{wfo}",
                        "issuanceTime": (now - timedelta(hours=i)).isoformat(),
                        "productCode": "CLI",
                        "productName": "Climatological Report (Daily)",
                    }
                    for i, pid in enumerate(products)
                ],
            },
        )
        for pid, text in products.items():
            self.set(f"/products/{pid}", {"id": pid, "productCode": "CLI", "productText": text})
