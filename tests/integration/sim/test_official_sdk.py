"""What Kalshi's official Python SDK sees: ``kalshi-python-async`` 3.34.0 (Python ≥ 3.13) drives the
embedded exchange over loopback — markets, series, events with nested markets, order books,
balance, create / amend / cancel, positions, fills, cancel-all — and reads every answer through its
typed models (``sdk_driver.py``). Its models require the 2026 fields (``Market.settlement_bounds_type``,
``Series.categories`` …), so an exchange that serves what Kalshi served in August fails here.

The SDK runs in its own Python 3.13 virtual environment, built once and cached inside the test
environment's prefix (``<sys.prefix>/sdk/kalshi-python-async-3.34.0``); reruns reuse it. Python 3.13
is ``$KALSHI_TRADER_TEST_PYTHON313``, else ``python3.13`` on the PATH, else a pyenv 3.13. Without one,
or when the SDK cannot be installed (no package index), the test is skipped and says why.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tests.support.exchange import RunningExchange, running_exchange

SDK = "kalshi-python-async"
SDK_VERSION = "3.34.0"
DRIVER = Path(__file__).with_name("sdk_driver.py")
CACHE = Path(sys.prefix) / "sdk" / f"{SDK}-{SDK_VERSION}"

pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("official_sdk")]  # one SDK environment


def _python313() -> str | None:
    candidates = [os.environ.get("KALSHI_TRADER_TEST_PYTHON313"), shutil.which("python3.13")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.13*/bin/python"))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            version = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if version.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="session")
def sdk_python() -> str:
    """The cached Python 3.13 environment's interpreter, with the SDK installed (or a skip)."""
    python = CACHE / "bin" / "python"
    stamp = CACHE / "installed"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == f"{SDK}=={SDK_VERSION}":
        return str(python)
    base = _python313()
    if base is None:
        pytest.skip(
            f"{SDK} {SDK_VERSION} needs Python 3.13 or newer and none was found (set KALSHI_TRADER_TEST_PYTHON313)"
        )
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([base, "-m", "venv", str(CACHE)], capture_output=True, text=True, timeout=300, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a Python 3.13 environment with {base}: {made.stderr.strip()[-300:]}")
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{SDK}=={SDK_VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if pip.returncode != 0:
        shutil.rmtree(CACHE, ignore_errors=True)
        pytest.skip(f"cannot install {SDK}=={SDK_VERSION} (no package index?): {pip.stderr.strip()[-300:]}")
    stamp.write_text(f"{SDK}=={SDK_VERSION}\n")
    return str(python)


@pytest.fixture
async def ex() -> AsyncIterator[RunningExchange]:
    async with running_exchange() as running:
        yield running


def write_key(ex: RunningExchange, key_file: Path) -> None:
    key = ex.trader.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file.write_bytes(key)
    key_file.chmod(0o600)


async def drive(python: str, ex: RunningExchange, ticker: str, key_file: Path) -> dict[str, object]:
    write_key(ex, key_file)
    proc = await asyncio.create_subprocess_exec(
        python,
        str(DRIVER),
        ex.rest_url,
        ex.trader.key_id,
        str(key_file),
        ticker,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    report: dict[str, object] = json.loads(out)
    return report


async def test_the_official_sdk_reads_everything_the_exchange_serves(
    sdk_python: str, ex: RunningExchange, tmp_path: Path
) -> None:
    assert ex.rest_url.startswith("http://127.0.0.1:")  # loopback only
    ticker = next(
        t for t in ex.scenario.tickers if t.startswith("KXINXD") and ex.exchange.engine.market(t).status == "active"
    )
    report = await drive(sdk_python, ex, ticker, tmp_path / "key.pem")
    failed = {name: value for name, value in report.items() if isinstance(value, dict) and "error" in value}
    assert failed == {}, json.dumps(failed, indent=1)[:6000]
    assert report["bounds_types"] == ["default", "floor"]  # weather brackets (MECNET) and the S&P floor ladder
    assert report["market"] == {"ticker": ticker, "bounds": "floor"}
    categories = report["series_categories"]
    assert isinstance(categories, dict)
    assert categories["KXINXD"] == ["Financials", "Economics"]
    nested = report["nested_markets"]
    assert isinstance(nested, int)
    assert nested > 0
    assert (report["amended_remaining"], report["order_price"], report["canceled_by"]) == ("3.00", "0.0400", "3.00")
    assert report["ioc_filled"] == "1.00"
    assert report["positions"] == [ticker]
    assert report["fills"] == [[ticker, "yes"]]
    assert report["resting_after_cancel_all"] == 0
