"""Fan-out benchmark: call→display latency with N displays on fan-out processes against N on one process.

One invocation, two runs on fresh databases: (1) `motcua serve` alone holding every display;
(2) `motcua serve` on a Redis started here (Debian's redis-server, on a free port) with F
`motcua fanout` processes holding the displays, spread evenly, and the writer holding none. Both
runs issue and call at hk-01 as bench/load.py does (its raw asyncio client and driver).

    python bench/fanout.py --displays 2000 --fanouts 3 --seconds 20

Measured on this 2-core machine while another bench and a test run shared it (client, writer,
Redis and fan-outs all on the two cores, so the absolute figures are high and noisy): one process
p50 537 ms / p99 2,561 ms; three fan-outs p50 233 ms / p99 711 ms (0.28×); nothing missed either way.
At 200 displays on 2 fan-outs: p99 59 ms on one process, 49 ms on the fan-outs.
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (NO_ADDRESS_CAP, Display, drive_motcua, free_port, latencies, percentile, report,  # noqa: E402
                  start_motcua, wait_healthy)


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    return proc, f"redis://127.0.0.1:{port}/0"


async def measure(writer: str, holders: list[str], count: int, kiosk: str, args) -> tuple[list[float], int, int]:
    """count displays spread over holders (bases), calls made at the writer; (latencies, missed, calls)."""
    stop = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for base in {writer, *holders}:
            await wait_healthy(http, base)
        displays = [Display() for _ in range(count)]
        tasks = []
        for start in range(0, count, 100):
            batch = displays[start:start + 100]
            tasks += [asyncio.create_task(d.run(http, holders[(start + i) % len(holders)], stop))
                      for i, d in enumerate(batch)]
            await asyncio.wait_for(asyncio.gather(*(d.ready.wait() for d in batch)), timeout=60)
        _, call_sent, _ = await drive_motcua(http, writer, kiosk, args)
        await asyncio.sleep(2)  # the last calls arrive
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    values, missed = latencies(displays, call_sent)
    return values, missed, len(call_sent)


def run(folder: Path, args, fanouts: int) -> float:
    folder.mkdir()
    port = free_port()
    procs = []
    settings = NO_ADDRESS_CAP
    if fanouts:
        redis, url = start_redis(folder)
        procs.append(redis)
        time.sleep(0.5)  # redis-server binds within milliseconds; the writer refuses to start without it
        settings += f'message_queue = "{url}"\nport = {port}\ndb = "{folder / "bench.db"}"\n'
    writer, kiosk = start_motcua(folder, port, settings)
    procs.append(writer)
    holders = [f"http://127.0.0.1:{port}"]
    try:
        if fanouts:
            ports = [free_port() for _ in range(fanouts)]
            procs += [subprocess.Popen([sys.executable, "-m", "motcua.cli", "fanout", "--config",
                                        str(folder / "bench.toml"), "--port", str(p)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
            holders = [f"http://127.0.0.1:{p}" for p in ports]
        values, missed, calls = asyncio.run(measure(f"http://127.0.0.1:{port}", holders, args.displays, kiosk, args))
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()
    return report(f"fanout×{fanouts}" if fanouts else "one", args.displays, values, missed, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=2000)
    parser.add_argument("--fanouts", type=int, default=3)
    parser.add_argument("--rate", type=float, default=5, help="tickets issued per second")
    parser.add_argument("--calls-per-s", type=float, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = run(Path(tmp) / "one", args, 0)
        spread = run(Path(tmp) / "fanout", args, args.fanouts)
    print(f"ratio    call→display p99 on {args.fanouts} fan-outs / on one process: {spread / one:.2f}×", flush=True)


if __name__ == "__main__":
    main()
