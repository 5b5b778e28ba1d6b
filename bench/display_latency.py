"""Call → wall display latency in one real Chromium page.

Starts `motcua serve` on a fresh database, opens /display/hk-01 in Debian's Chromium (Playwright,
headless), then makes N calls one after another: issue a ticket, call it at a counter, and time
from the moment the call's HTTP answer is back to the moment the called number is in the page's
DOM (a MutationObserver stamps it with Date.now(); both clocks are this machine's). Prints p50,
p99 and max.

    python bench/display_latency.py [--calls 100]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import free_port, percentile, start_motcua  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
STAMP_CALLS = """() => {
  window.shownAt = {};
  const target = document.getElementById('now-number');
  new MutationObserver(() => { window.shownAt[target.textContent] ??= Date.now(); })
    .observe(target, {childList: true, characterData: true, subtree: true});
}"""


def wait_healthy(base: str) -> None:
    for _ in range(300):
        try:
            if requests.get(base + "/api/v1/health", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


def measure(base: str, kiosk: str, calls: int) -> list[float]:
    http = requests.Session()
    token = http.post(base + "/api/v1/auth/login", json={"username": "bench", "password": "benchpass1"}).json()["token"]
    staff, device = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {kiosk}"}
    latencies = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(base + "/display/hk-01")
        page.wait_for_selector(".service")
        page.evaluate(STAMP_CALLS)
        for _ in range(calls):
            number = http.post(base + "/api/v1/branches/hk-01/tickets", headers=device,
                               json={"service": "cert"}).json()["number"]
            called = http.post(base + "/api/v1/branches/hk-01/counters/3/next", headers=staff).json()["ticket"]
            answered_ms = time.time() * 1000
            assert called["number"] == number
            page.wait_for_function(f"window.shownAt[{number!r}] !== undefined", timeout=5000, polling=5)
            latencies.append(page.evaluate(f"window.shownAt[{number!r}]") - answered_ms)
            http.post(f"{base}/api/v1/tickets/{called['id']}/done", headers=staff)
            page.wait_for_timeout(100)  # calls a tenth of a second apart, as at a busy branch
        browser.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    print("$ python bench/display_latency.py --calls", args.calls)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        server, kiosk = start_motcua(Path(folder), port)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base)
            values = measure(base, kiosk, args.calls)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{len(values)} calls, from the call's HTTP answer to the number in the page's DOM (ms):")
    print(f"  p50 {percentile(values, 0.5):.1f}   p99 {percentile(values, 0.99):.1f}   "
          f"max {max(values):.1f}   mean {statistics.fmean(values):.1f}")
    print("  (negative: the page had the number before the HTTP answer reached the caller)")


if __name__ == "__main__":
    main()
