"""Alert destinations as Apprise URLs, and keeping the secrets in them out of everything shown.

Contract: an Apprise URL carries its credentials in places that differ by service (a bot token as
the "host" of ``tgram://``, a webhook token in the path of ``discord://``, a password in
``mailto://user:pw@host``, headers in the query of ``json://``). So ``redact(url)`` keeps only what
cannot be secret: the scheme, and for the services whose host is a real server (generic webhooks,
e-mail) the host and port; everything else becomes ``***``. ``scrub(text, urls)`` removes every
piece of the given URLs that might be secret (user, password, host of a token-as-host service,
path segments, query values) from free text such as a library's error message, verbatim and
%-decoded. Imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["redact", "scrub", "secrets_of"]

MASK = "***"
HOST_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
"""Services whose URL host is always a server name, never a credential."""
_MIN_SECRET = 4
"""Shorter pieces (a port, ``1``, ``on``) are not worth scrubbing and would garble messages."""
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def _scheme(url: str) -> str:
    m = _SCHEME_RE.match(url.strip())
    return m.group(1).lower() if m else ""


def redact(url: str) -> str:
    """What may be shown of ``url``: ``json://127.0.0.1:8080/***``, ``tgram://***``."""
    scheme = _scheme(url)
    if not scheme:
        return MASK
    shown = ""
    if scheme in HOST_SCHEMES:
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            host, port = "", None
        if host:
            shown = f"{host}:{port}" if port else host
    if not shown:
        return f"{scheme}://{MASK}"
    return f"{scheme}://{shown}/{MASK}"


def secrets_of(url: str) -> list[str]:
    """Every piece of ``url`` that might be a secret, longest first."""
    raw = url.strip()
    pieces: set[str] = {raw}
    rest = raw.split("://", 1)[1] if "://" in raw else raw
    netloc, _, tail = rest.partition("/")
    userinfo, _, hostport = netloc.rpartition("@")
    pieces.update(userinfo.split(":"))
    scheme = _scheme(raw)
    host = hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport
    if scheme not in HOST_SCHEMES:
        pieces.add(host)
        pieces.add(netloc)
    path, _, query = tail.partition("?")
    query, _, fragment = query.partition("#")
    pieces.update(path.split("/"))
    pieces.add(fragment)
    for name, value in parse_qsl(query, keep_blank_values=True):
        pieces.add(value)
        if name.startswith((":", "+", "-")):  # a header or payload override carries its value in the name
            pieces.add(name[1:])
    found = {p for piece in pieces for p in (piece, unquote(piece)) if len(p) >= _MIN_SECRET}
    return sorted(found, key=len, reverse=True)


def scrub(text: str, urls: Iterable[str]) -> str:
    """``text`` with every possibly secret piece of ``urls`` replaced by ``***``."""
    for url in urls:
        for secret in secrets_of(url):
            text = text.replace(secret, MASK)
    return text
