"""Flood benchmark: what an honest display and an honest kiosk see while the server is flooded.

Starts `motcua serve` on a fresh database with its shipped connection limits, then runs each
flood in turn in a process of its own (so that its client work does not slow the honest
clients' event loop): a login flood (guessers in tight loops, half at a real officer, half at
unknown names), stalled subscribers (sockets that connect, subscribe to hk-01 and stop
reading), slow headers (connections that send one header byte every few seconds, reopened when
closed) and 3,000 connected displays. While each flood holds, an honest kiosk issues at 5/s and
an officer calls at 2/s from 127.0.0.1, and an honest display subscribed to hk-01 times each
call (bench/load.py's client). The floods come from 127.0.0.2 and up, so the cap per address
([server] max_connections_per_address) bears on them and never on the honest clients; the
3,000 displays are spread over 50 addresses, 60 each, so the cap stays at its default.

    python bench/flood.py                       # every flood, 20 s each
    python bench/flood.py --floods stalled --seconds 10
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (Display, cli, drive_motcua, free_port, measure, percentile,  # noqa: E402
                  start_motcua, wait_healthy)

# The shipped limits, written out so that the figures say which limits they were measured under.
SETTINGS = "[server]\nmax_connections_per_address = 64\nping_interval_s = 10.0\nping_timeout_s = 10.0\n" \
           "header_timeout_s = 10.0\n"
ISSUE_GOAL_MS, DISPLAY_GOAL_MS = 100, 500
# Loopback addresses other than the honest clients' 127.0.0.1 (all of 127/8 is local on Linux).
ATTACKERS = [f"127.0.{i // 250}.{i % 250 + 2}" for i in range(1000)]
SIZES = {"none": 0, "login": 16, "stalled": 1200, "slow-headers": 1200, "sockets": 3000}
ADDRESSES = {"none": 0, "login": 16, "stalled": 16, "slow-headers": 16, "sockets": 50}
UPGRADE = (b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


# ---- the floods, run in a worker process ------------------------------------------------------

async def open_from(address: str, port: int, rcvbuf: int = 0, limit: int = 2 ** 16):
    """A TCP stream to the server from one loopback source address."""
    sock = socket.socket()
    sock.setblocking(False)
    if rcvbuf:  # set before connecting, so that the window offered stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((address, 0))
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock, limit=limit)


def ws_frame(text: str) -> bytes:
    """One masked WebSocket text frame (a client's frames are masked; short ones only)."""
    data, mask = text.encode(), os.urandom(4)
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def login_flood(base: str, port: int, size: int, ready, stop: asyncio.Event) -> dict:
    """Guessers in tight loops, one per address, half at the officer `clerk`, half at unknown names."""
    counts = collections.Counter()

    async def guesser(i: int) -> None:
        connector = aiohttp.TCPConnector(local_addr=(ATTACKERS[i], 0), limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            n = 0
            while not stop.is_set():
                user = "clerk" if n % 2 == 0 else f"nobody-{i}-{n}"
                n += 1
                try:
                    async with http.post(base + "/api/v1/auth/login",
                                         json={"username": user, "password": f"guess-{i}-{n}"}) as answer:
                        await answer.read()
                        counts[answer.status] += 1
                except aiohttp.ClientError:
                    counts["error"] += 1
                    await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(guesser(i)) for i in range(size)]
    ready()
    started = time.perf_counter()
    await stop.wait()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    return {"treated": f"{sum(counts.values()) / seconds:.0f} tries/s: "
                       + ", ".join(f"{key} ×{value}" for key, value in sorted(counts.items(), key=str))}


async def drain(reader, seconds: float) -> bool:
    """True when the server has closed the stream (reads what it sent, up to its end)."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(65536):
                pass
        return True
    except TimeoutError:
        return False
    except OSError:  # reset: closed too
        return True


def by_address(size: int, addresses: int) -> list[str]:
    """The source address of each of `size` connections, spread evenly over `addresses`."""
    return [ATTACKERS[i % addresses] for i in range(size)]


async def stalled_flood(base: str, port: int, size: int, ready, stop: asyncio.Event) -> dict:
    """Sockets that connect, subscribe to hk-01 and never read again."""
    counts = collections.Counter()

    async def stall(address: str):
        try:
            # A small window and a small buffer: once a few KiB are in, nothing more is read.
            reader, writer = await open_from(address, port, rcvbuf=4096, limit=1024)
            writer.write(UPGRADE)
            head = await reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            counts["failed"] += 1
            return None
        if not head.startswith(b"HTTP/1.1 101"):
            counts[head.split(b" ")[1].decode()] += 1
            return None
        writer.write(ws_frame("40") + ws_frame('42["subscribe",{"branch":"hk-01"}]'))
        counts["held"] += 1
        return reader, writer

    streams = [s for s in await asyncio.gather(*(stall(a) for a in by_address(size, ADDRESSES["stalled"]))) if s]
    held_at = time.perf_counter()
    ready()
    await stop.wait()
    age = time.perf_counter() - held_at
    closed = sum(await asyncio.gather(*(drain(reader, 5) for reader, _ in streams)))
    for _, writer in streams:
        writer.close()
    held = counts.pop("held", 0)
    refused = ", ".join(f"{key} ×{value}" for key, value in sorted(counts.items())) or "none"
    return {"treated": f"held {held}, refused {refused}; closed by the server {closed} of {len(streams)}"
                       f" by {age:.0f} s after"}


async def slow_headers_flood(base: str, port: int, size: int, ready, stop: asyncio.Event) -> dict:
    """Connections sending a header byte every 3 s, each reopened once the server closes it."""
    counts, held_s = collections.Counter(), []

    async def slow(address: str) -> None:
        while not stop.is_set():
            try:
                reader, writer = await open_from(address, port)
            except OSError:
                counts["connect failed"] += 1
                await asyncio.sleep(0.1)
                continue
            opened = time.perf_counter()
            counts["opened"] += 1
            writer.write(b"GET /api/v1/health HTTP/1.1\r\nX-Slow: ")
            answer = asyncio.create_task(reader.read(200))
            while not stop.is_set():
                done, _ = await asyncio.wait({answer}, timeout=3)
                if done:
                    break
                writer.write(b"a")  # one header byte every 3 s: the line never ends
            if answer.done() and not answer.cancelled() and answer.exception() is None:
                got = answer.result()
                if got.startswith(b"HTTP/1.1 503"):
                    counts["503"] += 1
                    # As Retry-After asks: reconnecting at once would make this a connection flood.
                    await asyncio.sleep(1)
                else:
                    counts["closed"] += 1
                    held_s.append(time.perf_counter() - opened)
            elif answer.done():
                counts["reset"] += 1
            answer.cancel()
            writer.close()

    tasks = [asyncio.create_task(slow(a)) for a in by_address(size, ADDRESSES["slow-headers"])]
    await asyncio.sleep(1)
    ready()
    await stop.wait()
    await asyncio.gather(*tasks)
    return {"treated": f"opened {counts['opened']}, 503 ×{counts['503']}, closed by the server ×{counts['closed']}"
                       f" (held p50 {percentile(held_s, .5):.1f} s, max {max(held_s, default=float('nan')):.1f} s)"
                       f", reset ×{counts['reset']}, connect failed ×{counts['connect failed']}"}


async def sockets_flood(base: str, port: int, size: int, ready, stop: asyncio.Event) -> dict:
    """Wall displays that read and answer pings, all subscribed to hk-01."""
    addresses = by_address(size, ADDRESSES["sockets"])
    sessions = {a: aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(a, 0), limit=0))
                for a in set(addresses)}
    displays = [Display() for _ in addresses]
    tasks = []
    for start in range(0, size, 100):  # in batches, as bench/load.py connects its displays
        batch = list(zip(displays, addresses))[start:start + 100]
        tasks += [asyncio.create_task(d.run(sessions[a], base, stop)) for d, a in batch]
        await asyncio.wait([asyncio.create_task(d.ready.wait()) for d, _ in batch], timeout=30)
    connected = sum(d.ready.is_set() for d in displays)
    ready()
    await stop.wait()
    ended_early = sum(t.done() for t in tasks)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for http in sessions.values():
        await http.close()
    return {"treated": f"connected {connected} of {size}; ended before the stop {ended_early}"
                       f" ({', '.join(sorted({repr(r)[:80] for r in results if isinstance(r, Exception)})) or 'no error'});"
                       f" calls heard {sum(len(d.received) for d in displays)}"}


async def none_flood(base, port, size, ready, stop) -> dict:
    """No flood: the honest figures of a quiet server, to compare with."""
    ready()
    await stop.wait()
    return {"treated": "-"}


FLOODS = {"none": none_flood, "login": login_flood, "stalled": stalled_flood,
          "slow-headers": slow_headers_flood, "sockets": sockets_flood}


async def run_worker(kind: str, port: int) -> None:
    """Hold one flood: print `ready` once it is in place, stop at a line on stdin, print its figures."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def ready() -> None:
        print("ready", flush=True)
        loop.run_in_executor(None, sys.stdin.readline).add_done_callback(lambda _: loop.call_soon_threadsafe(stop.set))

    async with aiohttp.ClientSession() as http:
        await wait_healthy(http, f"http://127.0.0.1:{port}")
    figures = await FLOODS[kind](f"http://127.0.0.1:{port}", port, SIZES[kind], ready, stop)
    print(json.dumps(figures), flush=True)


# ---- the honest clients and the table ---------------------------------------------------------

async def honest_login(base: str) -> float:
    """Milliseconds an honest officer's login takes (the password is hashed on one thread, guesses too)."""
    async with aiohttp.ClientSession() as http:
        await wait_healthy(http, base)
        sent = time.perf_counter()
        async with http.post(base + "/api/v1/auth/login", json={"username": "bench", "password": "benchpass1"}) as r:
            await r.read()
            return (time.perf_counter() - sent) * 1000 if r.status == 200 else float("nan")


def run_flood(kind: str, port: int, kiosk: str, holding: dict[str, str], args) -> dict:
    """One flood held while the honest kiosk, officer and display work; returns the row's figures."""
    worker = subprocess.Popen([sys.executable, __file__, "--worker", kind, "--port", str(port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {kind} flood did not start")
        base = f"http://127.0.0.1:{port}"
        honest = argparse.Namespace(seconds=args.seconds, rate=5, calls_per_s=2)
        login_ms = asyncio.run(honest_login(base))
        values, missed, (issue_ms, call_sent, issued) = asyncio.run(
            measure(base, 1, lambda http: drive_motcua(http, base, kiosk, honest, holding)))
        worker.stdin.write("stop\n")
        worker.stdin.flush()
        figures = json.loads(worker.stdout.readline())
    finally:
        worker.kill()
        worker.wait()
    issue_p99, display_p99 = percentile(issue_ms, .99), percentile(values, .99)
    met = issue_p99 <= ISSUE_GOAL_MS and display_p99 <= DISPLAY_GOAL_MS and missed == 0 \
        and issued == round(args.seconds * 5)
    return {**figures, "kind": kind, "size": f"{SIZES[kind]} from {ADDRESSES[kind]} addresses" if SIZES[kind] else "-",
            "issue": f"{percentile(issue_ms, .5):5.1f} / {issue_p99:6.1f}", "issued": issued,
            "display": f"{percentile(values, .5):5.1f} / {display_p99:6.1f}", "calls": len(call_sent),
            "missed": missed, "login_ms": login_ms, "goal": "met" if met else "NOT met"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floods", nargs="+", choices=list(FLOODS), default=list(FLOODS))
    parser.add_argument("--seconds", type=float, default=20, help="seconds each flood is held and measured")
    parser.add_argument("--worker", choices=list(FLOODS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server and the workers inherit it
    if args.worker:
        asyncio.run(run_worker(args.worker, args.port))
        return
    print(f"$ python bench/flood.py --floods {' '.join(args.floods)} --seconds {args.seconds:g}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        server, kiosk = start_motcua(Path(folder), port, SETTINGS)
        try:
            # The officer the login flood guesses at; the honest officer is another account, whose
            # lockout the guessers therefore cannot cause.
            cli("user", "add", "--username", "clerk", "--password", "kY7-clerk-pass", "--role", "officer",
                "--branch", "hk-01", "--db", str(Path(folder) / "bench.db"))
            rows, holding = [], {}
            for kind in args.floods:
                rows.append(run_flood(kind, port, kiosk, holding, args))
                row = rows[-1]
                print(f"{row['kind']:<12} {row['size']:<22} issued {row['issued']:>3}  issue p50/p99 {row['issue']} ms"
                      f"  calls {row['calls']:>3}  call→display p50/p99 {row['display']} ms  missed {row['missed']}"
                      f"  {row['goal']}  (an officer's login {row['login_ms']:.0f} ms)\n{'':<13}server: {row['treated']}", flush=True)
        finally:
            server.kill()
    print(f"goal: issue p99 ≤ {ISSUE_GOAL_MS} ms and call→display p99 ≤ {DISPLAY_GOAL_MS} ms, nothing missed,"
          f" during each flood: {'met' if all(r['goal'] == 'met' for r in rows) else 'NOT met'}")


if __name__ == "__main__":
    main()
