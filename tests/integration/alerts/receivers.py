"""Real alert receivers on loopback for the alert tests: an HTTP server taking Apprise's JSON
webhook and an SMTP server (aiosmtpd) taking its e-mail, each recording what arrived.

- ``webhook()`` starts a threaded HTTP server on a free port: ``received`` holds each POST as
  ``(headers, json body)``; ``status`` (default 200) is what it answers; ``hang_s`` makes it wait
  that long before answering (a receiver that hangs).
- ``smtp()`` starts an SMTP server accepting any login; ``messages`` holds each ``email.message``.
"""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Webhook:
    port: int
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    hang_s: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    def titles(self) -> list[str]:
        return [str(body.get("title", "")) for _, body in self.received]


@contextmanager
def webhook() -> Iterator[Webhook]:
    hook = Webhook(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if hook.hang_s:
                hook.release.wait(hook.hang_s)
            hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Smtp:
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _AnyPortController(Controller):
    """aiosmtpd's controller on a free port (it checks readiness by connecting to ``port``)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp() -> Iterator[Smtp]:
    box = Smtp(0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
            box.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            box.logins.append(data.login.decode())
        return AuthResult(success=True)

    controller = _AnyPortController(
        Handler(), hostname="127.0.0.1", port=0, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        box.port = controller.port
        yield box
    finally:
        controller.stop()
