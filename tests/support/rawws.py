"""A bare-bones WebSocket server for tests and benchmarks: handshake, then whatever the test says.

Contract:
- Helpers (no I/O): ``handshake_response(request)`` answers an HTTP upgrade request with
  ``101 Switching Protocols`` (or ``None`` when the request is not a complete upgrade);
  ``encode_frame(payload, opcode)`` frames a server→client message (unmasked, FIN set);
  ``parse_client_frame(buf)`` unmasks one client→server frame from the front of ``buf`` and
  returns ``(opcode, payload, consumed)``, or ``None`` when ``buf`` holds less than a frame.
- ``RawWsServer(behaviour)`` is an asyncio server on 127.0.0.1 (ephemeral port). For each
  connection it completes the handshake (recording the request headers in ``requests``) and runs
  ``await behaviour(conn)``; ``conn.commands()`` yields the JSON commands the client sends
  (answering pings with pongs unless ``conn.answer_pings`` is False; ``pings``/``pongs`` count
  what the client sent), ``conn.send(frames)`` writes
  pre-encoded JSON frames, ``conn.abort()`` drops the socket without a close frame. When the
  behaviour returns, the connection is closed. ``close()`` stops everything.
- ``subscribed_reply(command)`` builds the ``subscribed`` frame for a subscribe command (sid =
  ``sid`` argument), the reply a Kalshi server sends.

Written for loopback use by tests and bench/ only: no TLS, no extensions, no fragmentation.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import msgspec

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest())


def parse_headers(request: bytes) -> dict[str, str]:
    lines = request.decode("latin-1").split("\r\n")[1:]
    headers: dict[str, str] = {}
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return headers


def handshake_response(request: bytes) -> bytes | None:
    if b"\r\n\r\n" not in request:
        return None
    key = parse_headers(request).get("sec-websocket-key")
    if not key:
        return None
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key.encode()) + b"\r\n\r\n"
    )


def encode_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def parse_client_frame(buf: bytes | bytearray) -> tuple[int, bytes, int] | None:
    if len(buf) < 2:
        return None
    opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
    masked = buf[1] & 0x80
    pos = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n = struct.unpack_from("!H", buf, 2)[0]
        pos = 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n = struct.unpack_from("!Q", buf, 2)[0]
        pos = 10
    mask = b""
    if masked:
        if len(buf) < pos + 4:
            return None
        mask = bytes(buf[pos : pos + 4])
        pos += 4
    if len(buf) < pos + n:
        return None
    data = bytes(buf[pos : pos + n])
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data, pos + n


def subscribed_reply(command: dict[str, Any], sid: int = 1) -> bytes:
    channel = command["params"]["channels"][0]
    return msgspec.json.encode({"type": "subscribed", "msg": {"channel": channel, "sid": sid}, "id": command["id"]})


class RawConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.answer_pings = True
        self.pings = 0
        self.pongs = 0
        self._buf = bytearray()

    async def send(self, frames: Iterable[bytes]) -> None:
        """Write JSON frames (each framed as one text message) and drain."""
        self.writer.write(b"".join(encode_frame(f) for f in frames))
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def commands(self) -> AsyncIterator[dict[str, Any]]:
        """Client commands as JSON objects, until the client closes."""
        while True:
            parsed = parse_client_frame(self._buf)
            if parsed is None:
                chunk = await self.reader.read(65536)
                if not chunk:
                    return
                self._buf += chunk
                continue
            opcode, payload, used = parsed
            del self._buf[:used]
            if opcode == OP_PING:
                self.pings += 1
                if self.answer_pings:
                    self.writer.write(encode_frame(payload, OP_PONG))
            elif opcode == OP_PONG:
                self.pongs += 1
            elif opcode == OP_CLOSE:
                with contextlib.suppress(ConnectionError):
                    self.writer.write(encode_frame(payload[:2], OP_CLOSE))
                return
            elif opcode == OP_TEXT:
                yield msgspec.json.decode(payload)

    def abort(self) -> None:
        transport = self.writer.transport
        transport.abort()


Behaviour = Callable[[RawConnection], Awaitable[None]]


class RawWsServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[dict[str, str]] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/trade-api/ws/v2"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            response = handshake_response(request)
            if response is None:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            self.requests.append(parse_headers(request))
            self.connections += 1
            writer.write(response)
            await self.behaviour(RawConnection(reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def __aenter__(self) -> RawWsServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
