"""JSON-schema checks for api.weather.gov response shapes, written from the NWS API's published examples (the shapes
documented there from real responses), for the simulated NWS and for recorded NWS fixtures.

Contract: ``validate(kind, body)`` raises ``jsonschema.ValidationError`` unless ``body`` has the
documented shape for ``kind`` (one of ``SCHEMAS``). Schemas are open (extra keys allowed: the real
API adds fields over time) but every documented key must be present with the documented type,
units (``wmoUnit:degC`` …), time formats (ISO-8601 with offset; grid ``validTime`` =
``start/duration``) and value kinds (integer °F in forecasts, °C numbers in grids/observations).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$"
DURATION = r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?"
VALID_TIME = ISO[:-1] + "/" + DURATION + "$"
URL = r"^https?://"

_STR: dict[str, Any] = {"type": "string"}
_TIME: dict[str, Any] = {"type": "string", "pattern": ISO}
_URL: dict[str, Any] = {"type": "string", "pattern": URL}


def _qv(unit: str | None = None, *, nullable: bool = True, kind: str = "number") -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["unitCode", "value"],
        "properties": {
            "unitCode": {"const": f"wmoUnit:{unit}"} if unit else {"type": "string", "pattern": "^wmoUnit:"},
            "value": {"type": [kind, "null"] if nullable else kind},
            "qualityControl": _STR,
        },
    }


def _layer(unit: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["uom", "values"],
        "properties": {
            "uom": {"const": f"wmoUnit:{unit}"},
            "values": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["validTime", "value"],
                    "properties": {
                        "validTime": {"type": "string", "pattern": VALID_TIME},
                        "value": {"type": ["number", "null"]},
                    },
                },
            },
        },
    }


def _feature(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "geometry": {"type": ["object", "null"]},
            "properties": {"type": "object", "required": required, "properties": properties},
        },
    }


_PERIOD_PROPERTIES: dict[str, Any] = {
    "number": {"type": "integer", "minimum": 1},
    "name": _STR,
    "startTime": _TIME,
    "endTime": _TIME,
    "isDaytime": {"type": "boolean"},
    "temperature": {"type": "integer"},
    "temperatureUnit": {"enum": ["F", "C"]},
    "temperatureTrend": {"type": ["string", "null"]},
    "probabilityOfPrecipitation": _qv("percent"),
    "windSpeed": _STR,
    "windDirection": _STR,
    "icon": _STR,
    "shortForecast": _STR,
    "detailedForecast": _STR,
}
_PERIOD_REQUIRED = list(_PERIOD_PROPERTIES)
_FORECAST_PROPERTIES: dict[str, Any] = {
    "units": {"enum": ["us", "si"]},
    "forecastGenerator": _STR,
    "generatedAt": _TIME,
    "updateTime": _TIME,
    "validTimes": {"type": "string", "pattern": VALID_TIME},
    "elevation": _qv("m"),
}


def _forecast(period: dict[str, Any], required: list[str]) -> dict[str, Any]:
    properties = dict(_FORECAST_PROPERTIES)
    properties["periods"] = {
        "type": "array",
        "minItems": 1,
        "items": {"type": "object", "required": required, "properties": period},
    }
    return _feature(properties, [*_FORECAST_PROPERTIES, "periods"])


_HOURLY_PERIOD = {**_PERIOD_PROPERTIES, "dewpoint": _qv("degC"), "relativeHumidity": _qv("percent")}

_OBSERVATION = _feature(
    {
        "station": _URL,
        "timestamp": _TIME,
        "rawMessage": _STR,
        "textDescription": _STR,
        "temperature": _qv("degC"),
        "dewpoint": _qv("degC"),
        "maxTemperatureLast24Hours": _qv("degC"),
        "minTemperatureLast24Hours": _qv("degC"),
        "windSpeed": _qv("km_h-1"),
        "precipitationLastHour": _qv("mm"),
    },
    [
        "station",
        "timestamp",
        "rawMessage",
        "textDescription",
        "temperature",
        "dewpoint",
        "maxTemperatureLast24Hours",
        "minTemperatureLast24Hours",
        "windSpeed",
        "precipitationLastHour",
    ],
)

_PRODUCT_SUMMARY: dict[str, Any] = {
    "@id": _URL,
    "id": _STR,
    "wmoCollectiveId": {"type": "string", "pattern": r"^[A-Z]{4}\d{2}$"},
    "issuingOffice": {"type": "string", "pattern": r"^K[A-Z]{3}$"},
    "issuanceTime": _TIME,
    "productCode": {"const": "CLI"},
    "productName": {"const": "Climatological Report (Daily)"},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "points": _feature(
        {
            "cwa": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "forecastOffice": _URL,
            "gridId": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "gridX": {"type": "integer"},
            "gridY": {"type": "integer"},
            "forecast": _URL,
            "forecastHourly": _URL,
            "forecastGridData": _URL,
            "observationStations": _URL,
            "relativeLocation": {
                "type": "object",
                "required": ["properties"],
                "properties": {
                    "properties": {
                        "type": "object",
                        "required": ["city", "state", "distance"],
                        "properties": {"city": _STR, "state": _STR, "distance": _qv("m")},
                    }
                },
            },
            "forecastZone": _URL,
            "timeZone": _STR,
            "radarStation": _STR,
        },
        [
            "cwa",
            "forecastOffice",
            "gridId",
            "gridX",
            "gridY",
            "forecast",
            "forecastHourly",
            "forecastGridData",
            "observationStations",
            "relativeLocation",
            "forecastZone",
            "timeZone",
            "radarStation",
        ],
    ),
    "forecast": _forecast(_PERIOD_PROPERTIES, _PERIOD_REQUIRED),
    "forecast_hourly": _forecast(_HOURLY_PERIOD, [*_PERIOD_REQUIRED, "dewpoint", "relativeHumidity"]),
    "gridpoint": _feature(
        {
            "updateTime": _TIME,
            "validTimes": {"type": "string", "pattern": VALID_TIME},
            "gridId": _STR,
            "gridX": {"type": "string", "pattern": r"^\d+$"},
            "gridY": {"type": "string", "pattern": r"^\d+$"},
            "temperature": _layer("degC"),
            "maxTemperature": _layer("degC"),
            "minTemperature": _layer("degC"),
            "dewpoint": _layer("degC"),
            "probabilityOfPrecipitation": _layer("percent"),
        },
        ["updateTime", "validTimes", "gridId", "gridX", "gridY", "temperature", "maxTemperature", "minTemperature"],
    ),
    "observation": _OBSERVATION,
    "observations": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": _OBSERVATION}},
    },
    "cli_list": {
        "type": "object",
        "required": ["@graph"],
        "properties": {
            "@graph": {
                "type": "array",
                "items": {"type": "object", "required": list(_PRODUCT_SUMMARY), "properties": _PRODUCT_SUMMARY},
            }
        },
    },
    "product": {
        "type": "object",
        "required": [*_PRODUCT_SUMMARY, "productText"],
        "properties": {**_PRODUCT_SUMMARY, "productText": _STR},
    },
    "problem": {
        "type": "object",
        "required": ["correlationId", "title", "type", "status", "detail", "instance"],
        "properties": {
            "correlationId": _STR,
            "title": _STR,
            "type": {"type": "string", "pattern": r"^https://api\.weather\.gov/problems/"},
            "status": {"type": "integer", "minimum": 400},
            "detail": _STR,
            "instance": _STR,
        },
    },
}

_VALIDATORS = {kind: Draft202012Validator(schema) for kind, schema in SCHEMAS.items()}
for _schema in SCHEMAS.values():
    Draft202012Validator.check_schema(_schema)


def validate(kind: str, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``body`` has the documented ``kind`` shape."""
    _VALIDATORS[kind].validate(body)


# Samples in the NWS API's published shapes (trimmed; kept as the reference the schemas must accept).
DOCUMENTED_SAMPLES: dict[str, Any] = {
    "points": {
        "id": "https://api.weather.gov/points/40.779,-73.969",
        "type": "Feature",
        "properties": {
            "cwa": "OKX",
            "forecastOffice": "https://api.weather.gov/offices/OKX",
            "gridId": "OKX",
            "gridX": 33,
            "gridY": 37,
            "forecast": "https://api.weather.gov/gridpoints/OKX/33,37/forecast",
            "forecastHourly": "https://api.weather.gov/gridpoints/OKX/33,37/forecast/hourly",
            "forecastGridData": "https://api.weather.gov/gridpoints/OKX/33,37",
            "observationStations": "https://api.weather.gov/gridpoints/OKX/33,37/stations",
            "relativeLocation": {
                "properties": {
                    "city": "Hoboken",
                    "state": "NJ",
                    "distance": {"unitCode": "wmoUnit:m", "value": 4063.8},
                }
            },
            "forecastZone": "https://api.weather.gov/zones/forecast/NYZ072",
            "timeZone": "America/New_York",
            "radarStation": "KDIX",
        },
    },
    "observation": {
        "id": "https://api.weather.gov/stations/KNYC/observations/2026-05-16T19:51:00+00:00",
        "type": "Feature",
        "properties": {
            "station": "https://api.weather.gov/stations/KNYC",
            "timestamp": "2026-05-16T19:51:00+00:00",
            "rawMessage": "KNYC 161951Z AUTO 21008KT 10SM CLR 26/12 A3002 RMK AO2 SLP166 T02610122",
            "textDescription": "Clear",
            "temperature": {"unitCode": "wmoUnit:degC", "value": 26.1, "qualityControl": "V"},
            "dewpoint": {"unitCode": "wmoUnit:degC", "value": 12.2, "qualityControl": "V"},
            "maxTemperatureLast24Hours": {"unitCode": "wmoUnit:degC", "value": None},
            "minTemperatureLast24Hours": {"unitCode": "wmoUnit:degC", "value": None},
            "windSpeed": {"unitCode": "wmoUnit:km_h-1", "value": 14.8, "qualityControl": "V"},
            "precipitationLastHour": {"unitCode": "wmoUnit:mm", "value": None, "qualityControl": "Z"},
        },
    },
    "gridpoint": {
        "type": "Feature",
        "properties": {
            "updateTime": "2026-09-10T10:00:00+00:00",
            "validTimes": "2026-09-10T04:00:00+00:00/P7DT20H",
            "gridId": "OKX",
            "gridX": "33",
            "gridY": "37",
            "temperature": {
                "uom": "wmoUnit:degC",
                "values": [
                    {"validTime": "2026-09-10T14:00:00+00:00/PT1H", "value": 24.4},
                    {"validTime": "2026-09-10T15:00:00+00:00/PT2H", "value": 25.6},
                ],
            },
            "maxTemperature": {
                "uom": "wmoUnit:degC",
                "values": [{"validTime": "2026-09-10T11:00:00+00:00/PT13H", "value": 28.3}],
            },
            "minTemperature": {
                "uom": "wmoUnit:degC",
                "values": [{"validTime": "2026-09-10T23:00:00+00:00/PT14H", "value": 18.9}],
            },
            "probabilityOfPrecipitation": {
                "uom": "wmoUnit:percent",
                "values": [{"validTime": "2026-09-10T12:00:00+00:00/PT6H", "value": 40}],
            },
        },
    },
    "cli_list": {
        "@graph": [
            {
                "@id": "https://api.weather.gov/products/6f1c",
                "id": "6f1c",
                "wmoCollectiveId": "CDUS41",
                "issuingOffice": "KOKX",
                "issuanceTime": "2026-08-23T06:27:00+00:00",
                "productCode": "CLI",
                "productName": "Climatological Report (Daily)",
            }
        ]
    },
    "problem": {
        "correlationId": "3ed8bace",
        "title": "Forecast Grid Expired",
        "type": "https://api.weather.gov/problems/ForecastGridExpired",
        "status": 503,
        "detail": "The requested forecast grid was issued 2020-02-11T02:50:40+00:00 and has expired.",
        "instance": "https://api.weather.gov/requests/3ed8bace",
    },
}
