"""Running ``kalshi-trader run`` (and ``kalshi-trader exchange``) as a user does: subprocesses on
free ports with a temporary data dir, read back over HTTP and the exchange's signed REST API.

Contract:
- ``running_node(data_dir, *args)`` starts ``kalshi-trader run --web-port 0 --exchange-port 0
  --data-dir DATA_DIR *args``, waits for its banner and yields a ``RunningNode`` (dashboard URL,
  token, exchange REST URL, the process). On exit it sends SIGINT if the process still runs and
  waits for it (killing it after 30 s).
- ``running_exchange_process(data_dir, *args)`` does the same for ``kalshi-trader exchange``.
- ``faults(rest_url, data_dir, spec)`` switches the exchange's injected faults through its admin
  API (``PUT /admin/faults`` with the data dir's ``admin-token``) and returns its answer.
- ``resting_orders(rest_url, data_dir)`` lists the account's resting orders through the
  exchange's REST API with the data dir's key (what a person would check with ``kalshi-trader
  orders``); ``eventually(check)`` polls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from kalshi_trader.kalshi import convert
from kalshi_trader.kalshi.auth import Signer
from kalshi_trader.kalshi.rest import KalshiRest

CLI = str(Path(sys.executable).with_name("kalshi-trader"))
T = TypeVar("T")


@dataclass
class RunningNode:
    proc: subprocess.Popen[str]
    dashboard: str
    """The printed link, ``http://127.0.0.1:PORT/?token=...``."""
    base_url: str
    token: str
    exchange_rest: str
    data_dir: Path
    lines: list[str] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self, timeout_s: float = 30) -> tuple[int, str, str]:
        """SIGINT, then wait; returns (exit code, rest of stdout, stderr)."""
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=timeout_s)
        return self.proc.returncode, out, err


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_TRADER_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


def _read_banner(proc: subprocess.Popen[str], until: str, timeout_s: float) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while True:
        assert time.monotonic() < deadline, f"no {until!r} line in time: {lines}"
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"exited early ({proc.wait()}): {''.join(lines)} {err}")
        lines.append(line.rstrip("\n"))
        if line.startswith(until):
            return lines


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@contextmanager
def running_node(data_dir: Path, *args: str) -> Iterator[RunningNode]:
    cmd = [CLI, "run", "--web-port", "0", "--data-dir", str(data_dir), *args]
    if "--api-url" not in args and "--exchange-port" not in args:
        cmd += ["--exchange-port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        lines = _read_banner(proc, "Press Ctrl-C", 60)
        text = "\n".join(lines)
        dash = re.search(r"^Dashboard:\s+(\S+)", text, re.M)
        rest = re.search(r"^Exchange REST:\s+(\S+)", text, re.M)
        assert dash, text
        assert rest, text
        base, token = dash.group(1).split("/?token=")
        yield RunningNode(proc, dash.group(1), base, token, rest.group(1), data_dir, lines)
    finally:
        _stop(proc)


@contextmanager
def running_exchange_process(data_dir: Path, *args: str) -> Iterator[str]:
    """``kalshi-trader exchange --port 0 ...``; yields its REST URL."""
    cmd = [CLI, "exchange", "--port", "0", "--data-dir", str(data_dir), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        lines = _read_banner(proc, "Press Ctrl-C", 60)
        rest = next(line.split()[1] for line in lines if line.startswith("REST:"))
        yield rest
    finally:
        _stop(proc)


def faults(rest_url: str, data_dir: Path, spec: str | None = None) -> dict[str, Any]:
    """Set (``spec``) or read (None) the exchange's faults; its ``/admin/faults`` answer."""
    base = rest_url.split("/trade-api/", 1)[0]
    headers = {"Authorization": f"Bearer {(data_dir / 'admin-token').read_text().strip()}"}
    if spec is None:
        reply = httpx.get(f"{base}/admin/faults", headers=headers, timeout=10)
    else:
        reply = httpx.put(f"{base}/admin/faults", json={"spec": spec}, headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def resting_orders(rest_url: str, data_dir: Path) -> list[Any]:
    async def read() -> list[Any]:
        key_id = (data_dir / "api-key-id").read_text().strip()
        async with KalshiRest(rest_url, Signer.from_files(key_id, data_dir / "api-key.pem")) as rest:
            return [convert.order(o) async for o in rest.iter_orders(status="resting")]

    # In a thread of its own: the caller may be inside an event loop (Playwright's sync API runs one).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, read()).result()


def eventually(check: Callable[[], T], timeout_s: float = 20, every_s: float = 0.25) -> T:
    """``check()``'s first truthy result; AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(every_s)
