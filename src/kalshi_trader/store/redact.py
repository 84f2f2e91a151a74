"""Keeping database passwords out of every message, log line and CLI output.

Contract: :func:`redact_url` replaces the password of any ``scheme://user:PASSWORD@host`` (also
with an unescaped ``@`` in the password) and any ``password=`` query value in free text with
``***``; :func:`redact_text` also replaces given secrets verbatim and %-decoded. Neither needs
the text to parse. This module imports nothing of the project.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_USERINFO_RE = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):(?P<pw>\S*)@(?=[^@\s/?#]*(?:[/?#\s]|$))")
"""``scheme://user:PASSWORD@host``; the password runs to the last ``@`` before the host, so an
unescaped ``@`` inside it is still covered."""
_QUERY_PW_RE = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&#\s]*)", re.IGNORECASE)


def redact_url(raw: str) -> str:
    """``raw`` with any password (``user:PASSWORD@`` or ``?password=``) replaced by ``***``.

    Works on text that does not parse as a URL, too."""
    text = _USERINFO_RE.sub(lambda m: f"{m.group('head')}:***@", raw)
    return _QUERY_PW_RE.sub(lambda m: f"{m.group('head')}***", text)


def redact_text(text: str, *secrets: str | None) -> str:
    """``text`` with URL passwords and every given secret (and its %-decoded form) replaced by ``***``."""
    text = redact_url(text)
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, unquote(secret)}:
            text = text.replace(form, "***")
    return text


def password_of(raw: str | None) -> str | None:
    """The password in a URL, if any (to pass to :func:`redact_text`)."""
    if not raw:
        return None
    m = _USERINFO_RE.search(raw) or _QUERY_PW_RE.search(raw)
    if m is not None and m.group("pw"):
        return m.group("pw")
    try:
        return make_url(raw).password
    except ArgumentError:
        return None
