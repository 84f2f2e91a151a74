"""Serving the web app inside the node's event loop (uvicorn, no signal handling of its own).

Contract:
- ``WebServer(app, host, port, allow_remote=False)``: ``start()`` binds ``host:port`` (0 picks a
  free port) before anything is served, so a busy port fails at once with ``OSError``; it returns
  the base URL (``http://127.0.0.1:8000``). A host that is not a loopback address is refused
  (``ValueError``) unless ``allow_remote``: the dashboard can command the node.
- ``stop()`` closes open connections (WebSocket streams too) within ``grace_s`` and returns.
- uvicorn's access log is off (request lines could carry ``?token=``); its own log is kept to
  warnings. SIGINT/SIGTERM stay with the caller (the node stops first, then the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Generator

import structlog
import uvicorn
from fastapi import FastAPI

__all__ = ["WebServer", "is_loopback"]

log = structlog.get_logger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the node owns the signals


class WebServer:
    def __init__(
        self,
        app: FastAPI,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        allow_remote: bool = False,
        grace_s: int = 2,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(
                f"refusing to serve the dashboard on {host}, which is not a loopback address: anyone who can reach "
                "it and has the token can command the node; pass --web-allow-remote to do it anyway"
            )
        self.app = app
        self.host = host
        self.port = port
        self.grace_s = grace_s
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self.url = ""

    async def start(self) -> str:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        bound = sock.getsockname()[1]
        shown = (
            f"[{self.host}]" if family == socket.AF_INET6 else ("127.0.0.1" if self.host == "localhost" else self.host)
        )
        self.port = bound
        self.url = f"http://{shown}:{bound}"
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=self.grace_s,
            server_header=False,
        )
        self._server = server = _Server(config)
        self._task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="web-server")
        for _ in range(500):
            if server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()
        return self.url

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            async with asyncio.timeout(self.grace_s + 3):
                await task
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        except Exception:
            log.warning("web_server_stop_failed", exc_info=True)
        self._server = self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
