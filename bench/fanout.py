"""Fan-out benchmark: call→display latency with many displays on fan-out processes against fewer on one process.

One invocation, two runs on fresh databases: (1) `motcua serve` alone holding `--one-displays`
displays (2,000); (2) `motcua serve` on a Redis started here (Debian's redis-server, on a free port)
with F `motcua fanout` processes holding `--displays` displays (10,000), spread evenly, and the writer
holding none. Both runs issue and call at hk-01 as bench/load.py does (its raw asyncio client and
driver). The displays are held by client processes of `--per-client` sockets each (1,000, so that
one client's loop is not what is measured), the same per client in both runs; the open files' limit
is raised to its hard limit for them and the servers.

    python bench/fanout.py                 # 10,000 displays on 3 fan-outs against 2,000 on one process
    python bench/fanout.py --displays 1000 --one-displays 200     # the same shape, a fifth of the size

The goal (issue 20): call→display p99 on the fan-outs within 1.2× one process's, nothing missed. Measured
on this 2-core machine shared with other helpers' tests (load average 5-8; client processes, writer,
Redis and fan-outs all on the same two cores, so five times the displays is five times the work on
the same cores, and the figures are noisy), 20 s at 5 tickets/s and 5 calls/s:

    displays: fan-outs / one     one process p50 / p99      3 fan-outs p50 / p99      p99 ratio  missed
    1,000 / 200                     24.5 /     93 ms         151 /  1,446 ms         15.6×      0 / 0
    3,000 / 600                     42.8 /    389 ms       9,576 / 16,572 ms         42.6×      0 / 6,574
    1,000 / 1,000                    282 /  1,600 ms          80 /    470 ms          0.29×     0 / 0
    3,000 / 3,000                 11,732 / 34,991 ms       2,598 /  8,394 ms          0.24×     59,950 / 0

At equal numbers the fan-outs answer in a quarter of the time; five times the displays on two cores
do not hold the goal (the full 10,000 was not run here: 3,000 already saturates the machine).

What the missed calls were (`--displays 3000 --one-displays 100 --seconds 20`, load average 5-7): no Redis
subscriber was ever dropped (`CLIENT LIST`: the same six subscriptions throughout, output buffers empty).
A fan-out's send backlog past `ping_timeout_s` (10 s) makes Engine.IO close every socket behind it: it
counts the pong's wait from when the ping was queued. Each call after was missed by a display that never
connected again (before, 2,929 of 3,000 sockets closed, 73,701 missed; then 1,056 closed, 3,167 missed,
every one on a closed socket and none on an open one). With `--ping-timeout 60` nothing was closed and
nothing missed (p50 / p99 1,258 / 3,900 ms). The displays now connect again as the pages do (live.js),
and a call the answering state shows counts as heard: still 54,924 missed, all on displays closed at least
once, superseded in the state's eight recent calls while they were away (5 calls/s), never on the others.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (NO_ADDRESS_CAP, Display, drive_motcua, free_port, latencies, percentile, report,  # noqa: E402
                  start_motcua, wait_healthy)

GOAL = 1.2  # issue 20: p99 on the fan-outs within this many times one process's


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    return proc, f"redis://127.0.0.1:{port}/0"


def raise_open_files() -> int:
    """The soft limit of open files up to the hard one (inherited by every process started after)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class HeldDisplay(Display):
    """A display that, as the pages' live.js does, connects again 0.4 s after the server closed its socket
    (Engine.IO closes a socket whose pong does not come within ping_timeout of its ping being queued, so a
    send backlog longer than that closes every socket behind it) and subscribes again: the calls the state
    it is answered with shows count as heard then. It counts the times it was closed."""

    closed = 0
    fresh = False  # connected again: its next state's calls count

    async def run(self, http, base: str, stop: asyncio.Event) -> None:
        while True:
            try:
                await super().run(http, base, stop)
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError):  # refused or cut: try again, as live.js
                pass
            if stop.is_set():
                return
            self.closed += 1
            self.fresh = True
            await asyncio.sleep(0.4)

    def _handle(self, data: str, ws) -> None:
        if self.fresh and data.startswith('42["queue"'):
            self.fresh = False
            at = time.time()
            for call in json.loads(data[2:])[1]["recent_calls"]:
                self.received.setdefault(call["number"], at)
        super()._handle(data, ws)


def hold(holders: list[str], count: int, first: int, grace: float, pipe) -> None:
    """A client process: count displays on holders (round robin from display number first); says "ready"
    once all have their state, takes the calls' send times, answers (latencies, missed, sockets the
    server closed, the calls missed on those)."""
    asyncio.run(_hold(holders, count, first, grace, pipe))


async def _hold(holders: list[str], count: int, first: int, grace: float, pipe) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        displays = [HeldDisplay() for _ in range(count)]
        tasks = []
        for start in range(0, count, 100):
            batch = displays[start:start + 100]
            tasks += [asyncio.create_task(d.run(http, holders[(first + start + i) % len(holders)], stop))
                      for i, d in enumerate(batch)]
            await asyncio.wait_for(asyncio.gather(*(d.ready.wait() for d in batch)), timeout=120)
        pipe.send("ready")
        call_sent = await loop.run_in_executor(None, pipe.recv)  # the loop goes on receiving meanwhile
        # A socket's calls come in order: once each display has the last call, or grace has passed, the
        # calls not heard are missed (a late one counts once it came, however late).
        last = max(call_sent, key=call_sent.get, default=None)
        deadline = time.monotonic() + grace
        while last and time.monotonic() < deadline and not all(last in d.received for d in displays):
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    closed = [d for d in displays if d.closed]
    pipe.send((*latencies(displays, call_sent), sum(d.closed for d in closed), latencies(closed, call_sent)[1]))


async def drive(writer: str, kiosk: str, args) -> dict[str, float]:
    """The calls, made at the writer once every display has its state; their send times."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await wait_healthy(http, writer)
        _, call_sent, _ = await drive_motcua(http, writer, kiosk, args)
    return call_sent


async def healthy(bases: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        for base in bases:
            await wait_healthy(http, base)


def measure(writer: str, holders: list[str], count: int, kiosk: str, args) -> tuple[list[float], int, int, int, int]:
    """count displays over holders in client processes of args.per_client; (latencies, missed, calls, sockets
    the server closed, the calls missed on those)."""
    asyncio.run(healthy([writer, *holders]))
    context = multiprocessing.get_context("fork")   # before any event loop runs here
    clients = []
    for n in range(math.ceil(count / args.per_client)):
        share = min(args.per_client, count - n * args.per_client)
        ours, theirs = context.Pipe()
        proc = context.Process(target=hold, args=(holders, share, n * args.per_client, args.grace, theirs), daemon=True)
        proc.start()
        clients.append((proc, ours))
    try:
        for proc, pipe in clients:
            if not pipe.poll(600) or pipe.recv() != "ready":
                raise RuntimeError("a client process did not get its displays connected")
        call_sent = asyncio.run(drive(writer, kiosk, args))
        values, missed, closed, missed_closed = [], 0, 0, 0
        for _, pipe in clients:
            pipe.send(call_sent)
        for _, pipe in clients:
            theirs, their_missed, their_closed, their_missed_closed = pipe.recv()
            values += theirs
            missed += their_missed
            closed += their_closed
            missed_closed += their_missed_closed
    finally:
        for proc, _ in clients:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return values, missed, len(call_sent), closed, missed_closed


def fanout_log(args, port: int):
    """Where a fan-out's lines go: a file of --logs (it says when it lost Redis), or nowhere."""
    return (Path(args.logs) / f"fanout-{port}.log").open("a") if args.logs else subprocess.DEVNULL


def run(folder: Path, args, fanouts: int, count: int) -> tuple[float, int]:
    """One run: count displays on the writer alone (fanouts 0) or on fanouts processes; (p99, missed)."""
    folder.mkdir()
    port = free_port()
    procs = []
    settings = NO_ADDRESS_CAP + (f"ping_timeout_s = {args.ping_timeout}\n" if args.ping_timeout else "")
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
                                       stdout=log, stderr=subprocess.STDOUT)
                      for p, log in ((p, fanout_log(args, p)) for p in ports)]
            holders = [f"http://127.0.0.1:{p}" for p in ports]
        values, missed, calls, closed, missed_closed = measure(f"http://127.0.0.1:{port}", holders, count, kiosk,
                                                               args)
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()
    p99 = report(f"fanout×{fanouts}" if fanouts else "one", count, values, missed, calls)
    print(f"{'':<8} sockets the server closed during the run {closed} (each connected again), the calls missed on "
          f"displays closed at least once {missed_closed}, on the others {missed - missed_closed}", flush=True)
    return p99, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=10_000, help="displays on the fan-out processes")
    parser.add_argument("--one-displays", type=int, default=2_000, help="displays on the one process, the reference")
    parser.add_argument("--fanouts", type=int, default=3)
    parser.add_argument("--per-client", type=int, default=1_000, help="display sockets per client process")
    parser.add_argument("--rate", type=float, default=5, help="tickets issued per second")
    parser.add_argument("--calls-per-s", type=float, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--ping-timeout", type=float, help="[server] ping_timeout_s of the servers (default: "
                        "the setting's own)")
    parser.add_argument("--logs", help="a folder for the fan-outs' logs (default: discarded)")
    parser.add_argument("--grace", type=float, default=30, help="seconds after the last call before a call not "
                        "heard is missed")
    args = parser.parse_args()
    files = raise_open_files()
    print(f"open files per process: {files}; {args.per_client} display sockets per client process", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        one, _ = run(Path(tmp) / "one", args, 0, args.one_displays)
        spread, missed = run(Path(tmp) / "fanout", args, args.fanouts, args.displays)
    ratio = spread / one
    met = ratio <= GOAL and missed == 0
    print(f"goal     call→display p99 with {args.displays} displays on {args.fanouts} fan-outs / {args.one_displays}"
          f" on one process: {ratio:.2f}× (goal ≤ {GOAL}×), missed {missed} (goal 0): {'met' if met else 'NOT met'}",
          flush=True)


if __name__ == "__main__":
    main()
