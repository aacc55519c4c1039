"""The pinned @hyperswarm/dht-relay client, bundled by esbuild into a page, in headless Chromium
(Debian's chromium + chromium-driver, driven by selenium), connects through our relay to a
hyperpunch server by key and echoes data, custodial and non-custodial (the page keeps its key,
does the Noise steps and the secret stream with sodium-javascript; the relay refuses secret keys).
Fails (never skips) when Chromium or the bundler is missing: CI installs them (``make
system-deps``, ``make browser-bundle``)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from relay_net import echo, peer, python_relay
from relay_net import testnet as local_testnet
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from hyperpunch.dht import HyperDHT
from jsref import INTEROP, run_node_json

pytestmark = pytest.mark.interop

BROWSER = INTEROP / "browser"
ECHO_BYTES = 256 * 1024


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise RuntimeError(
            "chromium / chromedriver missing: run `make system-deps` (Debian chromium, chromium-driver)"
        )
    return browser, driver


def build_page(out: Path) -> Path:
    """esbuild the page script from interop/node_modules (no CDN) next to a copy of index.html."""
    esbuild = INTEROP / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise RuntimeError("interop/node_modules/.bin/esbuild missing: run `make deps`")
    subprocess.run(
        [
            str(esbuild),
            str(BROWSER / "relay-page.js"),
            "--bundle",
            "--platform=browser",
            "--format=iife",
            f"--alias:sodium-native={BROWSER / 'sodium-shim.js'}",
            f"--outfile={out / 'relay-bundle.js'}",
            "--log-level=warning",
        ],
        check=True,
        cwd=INTEROP,
    )
    shutil.copy(BROWSER / "index.html", out / "index.html")
    return out / "index.html"


def run_browser(
    page: Path, url: str, server_key: str, kp: Any, screenshot: Path, custodial: bool
) -> dict[str, Any]:
    browser, driver_path = chromium_paths()
    options = Options()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,600"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_script_timeout(120)
        driver.get(page.as_uri())
        result: dict[str, Any] = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "window.relayEcho(arguments[0], arguments[1], arguments[2], arguments[3], arguments[4])"
            ".then(done, (err) => done({error: String(err && err.message)}));",
            url,
            server_key,
            ECHO_BYTES,
            {"publicKey": kp.public_key.hex(), "secretKey": kp.secret_key.hex()},
            custodial,
        )
        driver.save_screenshot(str(screenshot))
        return result
    finally:
        driver.quit()


def test_sodium_shim_matches_sodium_native() -> None:
    """The bundle's crypto_scalarmult_ed25519_noclamp (absent from sodium-javascript 0.8.0) equals
    sodium-native's on random keys and scalars, and a Diffie-Hellman through it agrees."""
    result = run_node_json("relay-sodium-shim-check.js", "64")
    assert result == {"event": "checked", "rounds": 64, "mismatches": 0, "dh": True}


@pytest.mark.parametrize("custodial", [True, False], ids=["custodial", "non-custodial"])
async def test_browser_connects_through_python_relay(tmp_path: Path, custodial: bool) -> None:
    page = build_page(tmp_path)
    screenshot = tmp_path / "browser.png"
    async with (
        local_testnet() as bootstrap,
        python_relay(bootstrap, require_non_custodial=not custodial) as relay,
        peer(bootstrap) as srv_node,
    ):
        server_kp = HyperDHT.key_pair()
        server = srv_node.create_server(on_connection=echo)
        await server.listen(server_kp)
        client_kp = HyperDHT.key_pair()
        result = await asyncio.to_thread(
            run_browser, page, relay.url, server_kp.public_key.hex(), client_kp, screenshot, custodial
        )
        assert "error" not in result, result
        assert result["custodial"] is custodial
        assert result["remotePublicKey"] == server_kp.public_key.hex()
        assert result["bytes"] == ECHO_BYTES
        assert result["sent"] == result["received"]
        assert screenshot.stat().st_size > 0
        if not custodial:
            assert all(s.error is None for s in relay.sessions)
            assert relay.secret_keys_seen == 0
        await server.aclose()
