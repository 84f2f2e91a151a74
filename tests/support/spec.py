"""Validate JSON against Kalshi's official API descriptions (tests only).

Contract:

- ``validate_response(method, path, status, body)`` — ``path`` is the concrete request path
  relative to ``/trade-api/v2`` (a leading ``/trade-api/v2`` and any query string are dropped).
  It is matched against the OpenAPI path templates (literal segments beat ``{param}`` segments, as
  the OpenAPI spec requires), then the operation for ``method``, then the response for ``status``
  (exact code, else ``4XX``-style range, else ``default``; ``$ref`` to ``components/responses``
  resolved), and ``body`` (decoded JSON) is validated against that response's
  ``application/json`` schema with OpenAPI 3.0 semantics (``nullable``, ``format``, draft-4
  keywords). A response documented without content must have no body (``None``).
- ``validate_request(method, path, body)`` — the same for request bodies.
- ``validate_ws_message(message)`` — a server frame, looked up by its ``type`` (``subscribed``,
  ``ok``, ``unsubscribed``, ``error`` and every data message type) among the AsyncAPI
  ``components/messages`` payload schemas; several messages may share a type (``ok`` is both
  the update_subscription reply and the list_subscriptions reply): the frame must match one.
- ``validate_ws_command(command)`` — a client command, looked up by its ``cmd``.
- ``validate_openapi_schema(name, instance)`` / ``validate_asyncapi_schema(name, instance)`` —
  against one named ``components/schemas`` entry.
- ``validate_error_body(status, body)`` — the live error envelope, which openapi.yaml does not
  describe: ``{"error": {"code", "message"?, "details"?}}``, or ``{"error": "too many requests"}``
  on 429 (docs/kalshi-protocol.md, Errors).
- ``response_schema_pointer(method, path, status)`` / ``request_schema_pointer(method, path)`` —
  where the schema lives (``None``: documented without a body); ``ws_message_types()`` /
  ``ws_commands()`` — what the AsyncAPI describes; ``openapi_document()`` /
  ``asyncapi_document()`` — the documents as written (read-only).

Every mismatch raises ``AssertionError`` naming the operation or message, the failing location
in the instance (``$.orderbook_fp.yes_dollars[0][1]``), the offending value, and the keyword's
location in the document (``openapi.yaml#/components/schemas/PriceLevelDollarsCountFp/items/type``).
Undocumented paths, methods, statuses, message types and commands also raise.

``closed=True`` additionally rejects object keys that the schema does not list (the documents never
say ``additionalProperties: false``, so by default extra keys pass); use it on our own server's
output to catch misspelled optional fields.

The documents are the vendored copies in ``tests/fixtures/kalshi/spec/`` (CC0 mirror of
docs.kalshi.com, refreshed 2026-10-08: REST 3.32.0). They are loaded once per process; one
validator is compiled per schema and cached, so validating thousands of frames is cheap.

Deviations from a literal reading of the documents (each one is asserted in
``tests/unit/support/test_spec.py`` so that it is visible and re-checked if the documents change):

1. OpenAPI: ``nullable: true`` written next to ``$ref`` / ``allOf`` is honoured. OpenAPI 3.0 ignores
   ``$ref`` siblings, which would make 43 properties the documents describe as nullable (e.g.
   ``Market.settlement_value_dollars``, ``BatchCreateOrdersV2Response.orders[].error``)
   non-nullable.
2. AsyncAPI: the ``marketTicker`` pattern ``^[A-Z0-9-]+$`` is widened to ``^[A-Z0-9.-]+$``: the
   schema's own examples (``FED-23DEC-T3.00``) and every bracket market (``...-B78.5``) contain dots.
3. AsyncAPI: the ``lastUpdateReason`` enum gains ``SettlementBoundsCancel``, which the User Orders
   page and the changelog (Oct 1, 2026) list but the published ``asyncapi.yaml`` does not yet.
4. OpenAPI: 109 error responses (4xx/5xx of 43 operations, e.g. ``GET /markets/{ticker}`` 404) are
   documented by a description only, without ``content``; a body on them is accepted unchecked
   (``validate_error_body`` checks the live error envelope). 2xx responses documented without
   content (``DELETE /api_keys/{api_key}`` 204) must have no body.

Everything else (required fields, types, enums, formats ``date-time``/``uuid``/``int64``) is
enforced as written — including where the documents' own examples disagree with their schemas.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import yaml
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, relevance
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator
from openapi_schema_validator import _format as oas_format
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT7

SPEC_DIR: Final = Path(__file__).resolve().parents[1] / "fixtures" / "kalshi" / "spec"
OPENAPI_FILE: Final = SPEC_DIR / "openapi.yaml"
ASYNCAPI_FILE: Final = SPEC_DIR / "asyncapi.yaml"

API_PREFIX: Final = "/trade-api/v2"
_OPENAPI_URI: Final = "urn:kalshi:openapi.yaml"
_ASYNCAPI_URI: Final = "urn:kalshi:asyncapi.yaml"
_MAX_REPORTED_ERRORS: Final = 8
_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})

JSON = Any
"""Decoded JSON (dict / list / str / int / float / bool / None)."""


# --------------------------------------------------------------------------------------------
# Loading


def _load_yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)
    if not isinstance(doc, dict):
        raise TypeError(f"{path} is not a YAML mapping")
    return doc


@functools.cache
def openapi_document() -> Mapping[str, Any]:
    """The OpenAPI document exactly as written (do not mutate)."""
    return _load_yaml(OPENAPI_FILE)


@functools.cache
def asyncapi_document() -> Mapping[str, Any]:
    """The AsyncAPI document exactly as written (do not mutate)."""
    return _load_yaml(ASYNCAPI_FILE)


# --------------------------------------------------------------------------------------------
# Validator classes (keyword extensions documented in the module docstring)


_Keyword = Callable[..., Iterator[ValidationError]]


def _skip_if_nullable_null(keyword: _Keyword) -> _Keyword:
    """Wrap a keyword so that ``null`` passes when the same schema object says ``nullable: true``."""

    def wrapped(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        if instance is None and schema.get("nullable") is True:
            return
        yield from keyword(validator, value, instance, schema)

    return wrapped


def _closed(properties_keyword: _Keyword) -> _Keyword:
    """``properties`` that also rejects keys the schema does not list (``closed=True`` mode)."""

    def wrapped(
        validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        yield from properties_keyword(validator, properties, instance, schema)
        if validator.is_type(instance, "object") and "additionalProperties" not in schema:
            extra = sorted(set(instance) - set(properties))
            if extra:
                yield ValidationError(f"undocumented properties {extra!r} (closed mode)")

    return wrapped


# ``date-time`` (RFC 3339) comes from jsonschema's checker, backed by rfc3339-validator (a dependency
# of openapi-schema-validator); test_spec.py proves the check is active.
_OAS30_FORMATS = FormatChecker(["date-time"])
for _name, _check in (
    ("int32", oas_format.is_int32),
    ("int64", oas_format.is_int64),
    ("float", oas_format.is_float),
    ("double", oas_format.is_double),
    ("byte", oas_format.is_byte),
):
    _OAS30_FORMATS.checks(_name)(_check)

_ASYNCAPI_FORMATS = FormatChecker(["date-time", "uuid"])
_ASYNCAPI_FORMATS.checks("int64")(oas_format.is_int64)

_OAS_REF = OAS30Validator.VALIDATORS["$ref"]
_OAS_ALLOF = OAS30Validator.VALIDATORS["allOf"]
_OAS_ANYOF = OAS30Validator.VALIDATORS["anyOf"]
_OAS_ONEOF = OAS30Validator.VALIDATORS["oneOf"]
_OAS_PROPERTIES = OAS30Validator.VALIDATORS["properties"]

_OpenApiValidator = extend(
    OAS30Validator,
    {
        "$ref": _skip_if_nullable_null(_OAS_REF),
        "allOf": _skip_if_nullable_null(_OAS_ALLOF),
        "anyOf": _skip_if_nullable_null(_OAS_ANYOF),
        "oneOf": _skip_if_nullable_null(_OAS_ONEOF),
    },
)
_OpenApiClosedValidator = extend(_OpenApiValidator, {"properties": _closed(_OAS_PROPERTIES)})

_D7_PROPERTIES = Draft7Validator.VALIDATORS["properties"]
_AsyncApiValidator = Draft7Validator
_AsyncApiClosedValidator = extend(Draft7Validator, {"properties": _closed(_D7_PROPERTIES)})


# --------------------------------------------------------------------------------------------
# JSON pointers and error reports


def _escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _resolve_pointer(doc: Mapping[str, Any], pointer: str) -> Any:
    node: Any = doc
    for raw in pointer.lstrip("#").split("/")[1:]:
        token = _unescape(raw)
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _pointer_of_ref(ref: str) -> str:
    return "#" + ref.split("#", 1)[1] if "#" in ref else "#"


def _document_location(doc: Mapping[str, Any], root_pointer: str, schema_path: Iterator[object]) -> str:
    """Translate a jsonschema ``absolute_schema_path`` into a pointer in the document.

    jsonschema does not record ``$ref`` hops in schema paths, so a token that the current schema
    object does not have is looked up in the schema its ``$ref`` points to; the result names the
    keyword that actually failed, e.g. ``#/components/schemas/PriceLevelDollarsCountFp/items/type``."""
    pointer = root_pointer
    node: Any = _resolve_pointer(doc, root_pointer)
    for token in schema_path:
        key: object = token
        while isinstance(node, dict) and key not in node and isinstance(node.get("$ref"), str):
            pointer = _pointer_of_ref(node["$ref"])
            node = _resolve_pointer(doc, pointer)
        pointer = f"{pointer}/{_escape(key)}"
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            node = None
    return pointer


def _short(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _leaf_errors(errors: list[ValidationError]) -> list[ValidationError]:
    """Prefer the most specific error inside anyOf/oneOf branches."""
    out: list[ValidationError] = []
    for error in errors:
        if error.context:
            best = sorted(error.context, key=relevance)
            out.append(best[0] if best else error)
        else:
            out.append(error)
    return out


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One compiled validator for one schema in one document."""

    file_name: str
    doc: Mapping[str, Any]
    pointer: str
    validator: Any

    def errors(self, instance: JSON) -> list[ValidationError]:
        return sorted(self.validator.iter_errors(instance), key=relevance)

    def describe(self, errors: list[ValidationError]) -> str:
        lines = [f"schema {self.file_name}{self.pointer}"]
        leaves = _leaf_errors(errors)
        for error in leaves[:_MAX_REPORTED_ERRORS]:
            where = _document_location(self.doc, self.pointer, iter(error.absolute_schema_path))
            lines.append(
                f"  at {error.json_path}: {error.message}\n"
                f"      offending value: {_short(error.instance)}\n"
                f"      rule: {self.file_name}{where}"
            )
        if len(leaves) > _MAX_REPORTED_ERRORS:
            lines.append(f"  ... and {len(leaves) - _MAX_REPORTED_ERRORS} more")
        return "\n".join(lines)


class _Document:
    """A loaded, patched document with a registry and a per-(pointer, closed) validator cache."""

    def __init__(
        self,
        file_name: str,
        doc: dict[str, Any],
        uri: str,
        specification: Any,
        open_cls: Any,
        closed_cls: Any,
        formats: FormatChecker,
    ) -> None:
        self.file_name = file_name
        self.doc = doc
        self._uri = uri
        self._registry: Registry[Any] = Registry().with_resource(uri, specification.create_resource(doc))
        self._classes = {False: open_cls, True: closed_cls}
        self._formats = formats
        self._cache: dict[tuple[str, bool], _Compiled] = {}

    def compiled(self, pointer: str, *, closed: bool = False) -> _Compiled:
        key = (pointer, closed)
        found = self._cache.get(key)
        if found is None:
            schema = {"$ref": f"{self._uri}{pointer}"}
            validator = self._classes[closed](schema, registry=self._registry, format_checker=self._formats)
            found = _Compiled(self.file_name, self.doc, pointer, validator)
            self._cache[key] = found
        return found

    def check(self, pointer: str, instance: JSON, what: str, *, closed: bool = False) -> None:
        compiled = self.compiled(pointer, closed=closed)
        errors = compiled.errors(instance)
        if errors:
            raise AssertionError(f"{what}: body does not match the schema\n{compiled.describe(errors)}")


# --------------------------------------------------------------------------------------------
# OpenAPI


@dataclass(frozen=True, slots=True)
class _Route:
    template: str
    segments: tuple[str | None, ...]  # None = a {param} segment

    def match(self, parts: tuple[str, ...]) -> bool:
        return len(parts) == len(self.segments) and all(
            seg is None or seg == part for seg, part in zip(self.segments, parts, strict=True)
        )

    @property
    def specificity(self) -> tuple[bool, ...]:
        """Literal segments first, left to right (OpenAPI: concrete paths match before templated)."""
        return tuple(seg is not None for seg in self.segments)


_PARAM = re.compile(r"^\{[^/{}]+\}$")


class _OpenApi:
    def __init__(self) -> None:
        doc = copy.deepcopy(dict(openapi_document()))
        self.document = _Document(
            "openapi.yaml",
            doc,
            _OPENAPI_URI,
            DRAFT4,
            _OpenApiValidator,
            _OpenApiClosedValidator,
            _OAS30_FORMATS,
        )
        self.routes = [
            _Route(template, tuple(None if _PARAM.match(s) else s for s in template.strip("/").split("/")))
            for template in doc["paths"]
        ]

    def route(self, path: str) -> tuple[str, str]:
        """(template, normalised concrete path) for a concrete request path."""
        concrete = unquote(urlsplit(path).path)
        if concrete.startswith(API_PREFIX):
            concrete = concrete[len(API_PREFIX) :]
        concrete = "/" + concrete.strip("/")
        parts = tuple(concrete.strip("/").split("/"))
        candidates = [r for r in self.routes if r.match(parts)]
        if not candidates:
            raise AssertionError(f"path {concrete!r} matches no path template in openapi.yaml")
        best = max(candidates, key=lambda r: r.specificity)
        return best.template, concrete

    def operation(self, method: str, path: str) -> tuple[str, str, dict[str, Any]]:
        template, concrete = self.route(path)
        item = self.document.doc["paths"][template]
        op = item.get(method.lower())
        if not isinstance(op, dict):
            documented = sorted(m.upper() for m in item if m in _HTTP_METHODS)
            raise AssertionError(
                f"{method.upper()} {concrete}: path template {template!r} documents no {method.upper()} "
                f"operation (documented: {', '.join(documented)})"
            )
        return template, concrete, op

    def resolve(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        seen = set()
        while "$ref" in node:
            pointer = _pointer_of_ref(node["$ref"])
            if pointer in seen:
                raise AssertionError(f"openapi.yaml: $ref cycle at {pointer}")
            seen.add(pointer)
            node = _resolve_pointer(self.document.doc, pointer)
        return node, pointer


@functools.cache
def _openapi() -> _OpenApi:
    return _OpenApi()


def _json_schema_pointer(api: _OpenApi, holder: dict[str, Any], holder_pointer: str, what: str) -> str | None:
    """The pointer of the ``application/json`` schema of a response/requestBody, None if no content."""
    content = holder.get("content")
    if not content:
        return None
    media = next((m for m in content if m.split(";")[0].strip() == "application/json"), None)
    if media is None:
        raise AssertionError(f"{what}: documented only as {sorted(content)}, not application/json")
    if "schema" not in content[media]:
        return None
    return f"{holder_pointer}/content/{_escape(media)}/schema"


def response_schema_pointer(method: str, path: str, status: int) -> str | None:
    """Where in openapi.yaml the schema for this response lives (None: documented without a body)."""
    api = _openapi()
    template, concrete, op = api.operation(method, path)
    what = f"{method.upper()} {concrete} -> {status}"
    responses: dict[str, Any] = op.get("responses", {})
    key = next(
        (k for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default") if k in responses),
        None,
    )
    if key is None:
        raise AssertionError(
            f"{what}: status {status} is not documented for {method.upper()} {template} "
            f"(documented: {', '.join(sorted(responses))})"
        )
    op_pointer = f"#/paths/{_escape(template)}/{method.lower()}"
    response, response_pointer = api.resolve(responses[key], f"{op_pointer}/responses/{key}")
    return _json_schema_pointer(api, response, response_pointer, what)


def request_schema_pointer(method: str, path: str) -> tuple[str | None, bool]:
    """(schema pointer or None when no body is documented, whether the body is required)."""
    api = _openapi()
    template, concrete, op = api.operation(method, path)
    body = op.get("requestBody")
    if body is None:
        return None, False
    op_pointer = f"#/paths/{_escape(template)}/{method.lower()}"
    body, body_pointer = api.resolve(body, f"{op_pointer}/requestBody")
    pointer = _json_schema_pointer(api, body, body_pointer, f"{method.upper()} {concrete} request")
    return pointer, bool(body.get("required", False))


def validate_response(method: str, path: str, status: int, body: JSON, *, closed: bool = False) -> None:
    """Assert that ``body`` is what openapi.yaml documents for this method, path and status."""
    pointer = response_schema_pointer(method, path, status)
    what = f"{method.upper()} {urlsplit(path).path} -> {status}"
    if pointer is None:
        # 106 error responses (4xx/5xx) are documented by a description only (e.g. GET /markets/{ticker}
        # 404), although the API sends its error envelope there: nothing to check but the status
        # (use validate_error_body for the envelope). A success documented without content has no body.
        if status < 400 and body not in (None, b"", ""):
            raise AssertionError(f"{what}: documented without a body, got {_short(body)}")
        return
    if body is None:
        raise AssertionError(f"{what}: a JSON body is documented, got none")
    _openapi().document.check(pointer, body, what, closed=closed)


def validate_request(method: str, path: str, body: JSON, *, closed: bool = False) -> None:
    """Assert that ``body`` (None = no body) is an acceptable request body for this operation."""
    pointer, required = request_schema_pointer(method, path)
    what = f"{method.upper()} {urlsplit(path).path} request"
    if body is None:
        if required:
            raise AssertionError(f"{what}: a request body is required")
        return
    if pointer is None:
        raise AssertionError(f"{what}: no request body is documented, got {_short(body)}")
    _openapi().document.check(pointer, body, what, closed=closed)


def validate_openapi_schema(name: str, instance: JSON, *, closed: bool = False) -> None:
    """Assert that ``instance`` matches ``#/components/schemas/<name>`` of openapi.yaml."""
    api = _openapi()
    if name not in api.document.doc["components"]["schemas"]:
        raise AssertionError(f"openapi.yaml has no components/schemas/{name}")
    api.document.check(f"#/components/schemas/{_escape(name)}", instance, f"openapi {name}", closed=closed)


# --------------------------------------------------------------------------------------------
# AsyncAPI


@dataclass(frozen=True, slots=True)
class _WsMessage:
    name: str  # components/messages key
    pointer: str  # payload schema pointer


def _patch_asyncapi(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    ticker = schemas["marketTicker"]
    if ticker.get("pattern") == "^[A-Z0-9-]+$":
        ticker["pattern"] = "^[A-Z0-9.-]+$"
    reasons = schemas["lastUpdateReason"]["enum"]
    if "SettlementBoundsCancel" not in reasons:
        reasons.append("SettlementBoundsCancel")


def _const_of(doc: Mapping[str, Any], schema: Mapping[str, Any], prop: str) -> str | None:
    while "$ref" in schema:
        schema = _resolve_pointer(doc, _pointer_of_ref(schema["$ref"]))
    found = schema.get("properties", {}).get(prop, {}).get("const")
    if isinstance(found, str):
        return found
    for part in schema.get("allOf", ()):
        found = _const_of(doc, part, prop)
        if found is not None:
            return found
    return None


class _AsyncApi:
    def __init__(self) -> None:
        doc = copy.deepcopy(dict(asyncapi_document()))
        _patch_asyncapi(doc)
        self.document = _Document(
            "asyncapi.yaml",
            doc,
            _ASYNCAPI_URI,
            DRAFT7,
            _AsyncApiValidator,
            _AsyncApiClosedValidator,
            _ASYNCAPI_FORMATS,
        )
        self.by_type: dict[str, list[_WsMessage]] = {}
        self.by_cmd: dict[str, list[_WsMessage]] = {}
        for name, message in doc["components"]["messages"].items():
            if message.get("contentType", doc.get("defaultContentType")) != "application/json":
                continue  # ping/pong control frames
            payload = message["payload"]
            pointer = (
                _pointer_of_ref(payload["$ref"])
                if "$ref" in payload
                else f"#/components/messages/{_escape(name)}/payload"
            )
            schema = _resolve_pointer(doc, pointer)
            entry = _WsMessage(name, pointer)
            cmd = _const_of(doc, schema, "cmd")
            if cmd is not None:
                if entry not in self.by_cmd.setdefault(cmd, []):
                    self.by_cmd[cmd].append(entry)
                continue
            msg_type = _const_of(doc, schema, "type")
            if msg_type is None:
                raise RuntimeError(f"asyncapi.yaml message {name} has neither a cmd nor a type const")
            if all(e.pointer != pointer for e in self.by_type.setdefault(msg_type, [])):
                self.by_type[msg_type].append(entry)

    def check(self, candidates: list[_WsMessage], instance: JSON, what: str, closed: bool) -> None:
        reports = []
        for candidate in candidates:
            compiled = self.document.compiled(candidate.pointer, closed=closed)
            errors = compiled.errors(instance)
            if not errors:
                return
            reports.append(f"as message {candidate.name}: {compiled.describe(errors)}")
        raise AssertionError(f"{what} does not match the AsyncAPI schema\n" + "\n".join(reports))


@functools.cache
def _asyncapi() -> _AsyncApi:
    return _AsyncApi()


def ws_message_types() -> frozenset[str]:
    """Every server frame ``type`` the AsyncAPI document describes."""
    return frozenset(_asyncapi().by_type)


def ws_commands() -> frozenset[str]:
    """Every client ``cmd`` the AsyncAPI document describes."""
    return frozenset(_asyncapi().by_cmd)


def validate_ws_message(message: JSON, *, closed: bool = False) -> None:
    """Assert that a decoded server frame matches the AsyncAPI message for its ``type``."""
    if not isinstance(message, dict):
        raise AssertionError(f"a WebSocket frame must be a JSON object, got {_short(message)}")
    api = _asyncapi()
    msg_type = message.get("type")
    candidates = api.by_type.get(msg_type) if isinstance(msg_type, str) else None
    if not candidates:
        raise AssertionError(
            f"WebSocket frame type {msg_type!r} is not described in asyncapi.yaml "
            f"(known: {', '.join(sorted(api.by_type))})"
        )
    api.check(candidates, message, f"WebSocket {msg_type!r} frame", closed)


def validate_ws_command(command: JSON, *, closed: bool = False) -> None:
    """Assert that a client command matches the AsyncAPI command message for its ``cmd``."""
    if not isinstance(command, dict):
        raise AssertionError(f"a WebSocket command must be a JSON object, got {_short(command)}")
    api = _asyncapi()
    cmd = command.get("cmd")
    candidates = api.by_cmd.get(cmd) if isinstance(cmd, str) else None
    if not candidates:
        raise AssertionError(
            f"WebSocket command {cmd!r} is not described in asyncapi.yaml (known: {', '.join(sorted(api.by_cmd))})"
        )
    api.check(candidates, command, f"WebSocket {cmd!r} command", closed)


def validate_asyncapi_schema(name: str, instance: JSON, *, closed: bool = False) -> None:
    """Assert that ``instance`` matches ``#/components/schemas/<name>`` of asyncapi.yaml."""
    api = _asyncapi()
    if name not in api.document.doc["components"]["schemas"]:
        raise AssertionError(f"asyncapi.yaml has no components/schemas/{name}")
    api.document.check(f"#/components/schemas/{_escape(name)}", instance, f"asyncapi {name}", closed=closed)


# --------------------------------------------------------------------------------------------
# The live error envelope (not described by openapi.yaml)

RATE_LIMITED_BODY: Final = {"error": "too many requests"}


def validate_error_body(status: int, body: JSON) -> None:
    """Assert the error envelope the live API sends (docs/kalshi-protocol.md, Errors), which openapi.yaml's flat,
    all-optional ``ErrorResponse`` cannot check: 429 → ``{"error": "too many requests"}``; any other
    error status → ``{"error": {"code": <non-empty str>, "message"?: str, "details"?: str}}``."""
    if status < 400:
        raise AssertionError(f"status {status} is not an error status")
    if status == 429:
        if body != RATE_LIMITED_BODY:
            raise AssertionError(f"429 body must be {RATE_LIMITED_BODY!r}, got {_short(body)}")
        return
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        raise AssertionError(f'{status} body must be {{"error": {{"code": ..., ...}}}}, got {_short(body)}')
    inner = body["error"]
    code = inner.get("code")
    if not isinstance(code, str) or not code:
        raise AssertionError(f"{status} body: error.code must be a non-empty string, got {_short(code)}")
    _openapi().document.check("#/components/schemas/ErrorResponse", inner, f"{status} error body", closed=True)
