"""Load benchmark: issue latency and call→display latency with many wall displays connected.

Starts `motcua serve` on a fresh database (and, for comparison, a bare Flask-SocketIO app in the
same gevent mode that only emits one "called" event per POST), connects N display sockets to
branch hk-01 with a small asyncio Engine.IO 4 / Socket.IO 5 client (thousands of python-socketio
clients do not fit on two cores), then for S seconds issues tickets at R per second and calls
at hk-01's counters at C per second. Call→display latency runs from sending the HTTP call to
each display receiving its `called` event.

    python bench/load.py --displays 2000 --rate 5 --seconds 20      # fan-out: the goal line compares to bare
    python bench/load.py --displays 2000 --rate 5 --seconds 20 --rounds 4   # the same, in turns, pooled
    python bench/load.py --displays 10 --rate 100 --seconds 20 --skip-bare   # issuing at long queues
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "server" / "data" / "scenarios" / "hoan-kiem.json"
BARE_APP = textwrap.dedent('''
    from gevent import monkey; monkey.patch_all()
    import gc, sys, socket
    from flask import Flask, request
    from flask_socketio import SocketIO, join_room, emit
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler
    app = Flask(__name__)
    io = SocketIO(app, async_mode="gevent", http_compression=False)
    @io.on("subscribe")
    def subscribe(data):
        join_room("branch:" + data["branch"]); emit("queue", {"branch": data["branch"]})
    @app.post("/call/<ticket>")
    def call(ticket):
        io.emit("called", {"branch": "hk-01", "number": ticket, "counter": "1",
                           "service": "civil", "at": "2026-11-25T08:00:00+07:00", "recall": False},
                to="branch:hk-01")
        return {"ok": True}
    @app.get("/api/v1/health")
    def health():
        return {"status": "ok"}
    class NoDelay(WebSocketHandler):
        def handle(self):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); super().handle()
    gc.collect(); gc.freeze()
    pywsgi.WSGIServer(("127.0.0.1", int(sys.argv[1])), app, handler_class=NoDelay, log=None).serve_forever()
''')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], check=True, capture_output=True,
                          text=True).stdout


# Every display of the bench connects from 127.0.0.1: the cap per address would refuse them.
NO_ADDRESS_CAP = "[server]\nmax_connections_per_address = 0\n"


def start_motcua(folder: Path, port: int, settings_text: str = NO_ADDRESS_CAP) -> tuple[subprocess.Popen, str]:
    """A fresh database (hoan-kiem, admin `bench`, a kiosk of hk-01) served on `port`; returns it and the kiosk token."""
    db = str(folder / "bench.db")
    cli("init", "--scenario", str(SCENARIO), "--db", db)
    cli("user", "add", "--username", "bench", "--password", "benchpass1", "--role", "admin", "--db", db)
    kiosk = cli("device", "add", "--kind", "kiosk", "--branch", "hk-01", "--db", db).strip().splitlines()[-1]
    settings = folder / "bench.toml"
    settings.write_text(settings_text)
    proc = subprocess.Popen([sys.executable, "-m", "motcua.cli", "serve", "--db", db, "--port", str(port),
                             "--config", str(settings)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, kiosk


def start_bare(folder: Path, port: int) -> subprocess.Popen:
    script = folder / "bare.py"
    script.write_text(BARE_APP)
    return subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def wait_healthy(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with http.get(base + "/api/v1/health") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


class Display:
    """One wall display: a raw Engine.IO websocket subscribed to hk-01 (or as `hello` asks: another
    branch, a staff room), noting when calls arrive and counting the pushes that begin with `ready`."""

    def __init__(self, hello: str = '42["subscribe",{"branch":"hk-01"}]', ready: str = '42["queue"') -> None:
        self.received: dict[str, float] = {}
        self.ready = asyncio.Event()
        self.hello, self.ready_prefix = hello, ready
        self.pushes = 0

    async def run(self, http: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> None:
        url = base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with http.ws_connect(url, max_msg_size=0) as ws:
            await ws.receive()  # 0{...}: the Engine.IO handshake
            await ws.send_str("40")
            await ws.receive()  # 40{...}: connected to the namespace
            await ws.send_str(self.hello)
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.receive(), timeout=0.5)
                except asyncio.TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                self._handle(message.data, ws)

    def _handle(self, data: str, ws) -> None:
        if data == "2":
            # A pong can race the end of the run and find the socket closed: that is no error.
            asyncio.ensure_future(ws.send_str("3")).add_done_callback(lambda sent: sent.exception())
        elif data.startswith(self.ready_prefix):
            self.ready.set()
            self.pushes += 1
        elif data.startswith('42["called"'):
            self.received.setdefault(json.loads(data[2:])[1]["number"], time.time())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def connect_displays(http, base, count, stop) -> tuple[list[Display], list[asyncio.Task]]:
    displays = [Display() for _ in range(count)]
    tasks = []
    for start in range(0, count, 100):
        batch = displays[start:start + 100]
        tasks += [asyncio.create_task(d.run(http, base, stop)) for d in batch]
        await asyncio.wait_for(asyncio.gather(*(d.ready.wait() for d in batch)), timeout=60)
    return displays, tasks


async def drive_motcua(http, base, kiosk, args, holding: dict[str, str] | None = None
                      ) -> tuple[list[float], dict[str, float], int]:
    """Issue at R/s and call at C/s for S seconds; returns issue latencies, call send times, tickets."""
    async with http.post(base + "/api/v1/auth/login", json={"username": "bench", "password": "benchpass1"}) as r:
        staff = {"Authorization": "Bearer " + (await r.json())["token"]}
    kiosk_auth = {"Authorization": "Bearer " + kiosk}
    issue_ms, call_sent = [], {}
    # Counter → the ticket called there; given, it carries the counters' tickets from one run to the next.
    holding = {} if holding is None else holding
    services = ["civil", "cert", "land", "build", "business"]

    async def issue(n: int) -> None:
        sent = time.perf_counter()
        async with http.post(base + "/api/v1/branches/hk-01/tickets", headers=kiosk_auth,
                             json={"service": services[n % 5]}) as answer:
            await answer.read()
            if answer.status == 201:
                issue_ms.append((time.perf_counter() - sent) * 1000)

    async def call(n: int) -> None:
        counter = str(n % 6 + 1)
        if counter in holding:
            async with http.post(f"{base}/api/v1/tickets/{holding.pop(counter)}/done", headers=staff) as answer:
                await answer.read()
        sent = time.time()
        async with http.post(f"{base}/api/v1/branches/hk-01/counters/{counter}/next", headers=staff) as answer:
            ticket = (await answer.json()).get("ticket")
        if ticket:
            call_sent[ticket["number"]] = sent  # a display hears numbers, never ids
            holding[counter] = ticket["id"]

    await paced(args.seconds, [(args.rate, issue), (args.calls_per_s, call)])
    return issue_ms, call_sent, len(issue_ms)


async def drive_bare(http, base, args) -> dict[str, float]:
    call_sent = {}

    async def call(n: int) -> None:
        call_sent[f"b{n}"] = time.time()
        async with http.post(f"{base}/call/b{n}") as answer:
            await answer.read()

    await paced(args.seconds, [(args.calls_per_s, call)])
    return call_sent


async def paced(seconds: float, streams) -> None:
    """Run each (rate, action) stream at its rate for `seconds`, without waiting for answers."""
    started, pending = time.perf_counter(), set()
    counts = [0] * len(streams)
    while (now := time.perf_counter() - started) < seconds:
        for i, (rate, action) in enumerate(streams):
            while counts[i] < now * rate:
                pending.add(asyncio.create_task(action(counts[i])))
                counts[i] += 1
        await asyncio.sleep(0.002)
    await asyncio.gather(*pending)


def latencies(displays: list[Display], call_sent: dict[str, float]) -> tuple[list[float], int]:
    values, missed = [], 0
    for display in displays:
        for ticket, sent in call_sent.items():
            if ticket in display.received:
                values.append((display.received[ticket] - sent) * 1000)
            else:
                missed += 1
    return values, missed


async def measure(base, displays_n, driver) -> tuple[list[float], int, tuple]:
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await wait_healthy(http, base)
        displays, tasks = await connect_displays(http, base, displays_n, stop)
        result = await driver(http)
        await asyncio.sleep(2)  # let the last calls arrive
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    call_sent = result[1] if isinstance(result, tuple) else result
    values, missed = latencies(displays, call_sent)
    return values, missed, result


def report(name: str, displays: int, values: list[float], missed: int, calls: int) -> float:
    """Prints one run's call→display figures; returns its p99."""
    p99 = percentile(values, .99)
    print(f"{name:<8} displays {displays:>5}  calls {calls:>4}  call→display p50 {percentile(values, .5):7.1f} ms"
          f"  p99 {p99:7.1f} ms  max {max(values, default=float('nan')):7.1f} ms"
          f"  missed {missed}", flush=True)
    return p99


# The fan-out goal (issue 11): a call reaches the displays about as fast as from an app that
# does nothing else, because a `called` event never waits behind a `queue` push.
FANOUT_GOAL = 1.1


def fanout_goal(motcua_p99: float, bare_p99: float, missed: int) -> None:
    ratio = motcua_p99 / bare_p99
    met = ratio <= FANOUT_GOAL and missed == 0
    print(f"goal     call→display p99 {ratio:.2f}× the bare app's (goal ≤ {FANOUT_GOAL}×), missed {missed}"
          f" (goal 0): {'met' if met else 'NOT met'}", flush=True)


def run_motcua(folder: Path, args) -> tuple[list[float], int, int]:
    """One run against motcua: prints its figures; returns (call→display latencies, missed, calls)."""
    port = free_port()
    proc, kiosk = start_motcua(folder, port)
    try:
        values, missed, (issue_ms, call_sent, issued) = asyncio.run(measure(
            f"http://127.0.0.1:{port}", args.displays, lambda http: drive_motcua(
                http, f"http://127.0.0.1:{port}", kiosk, args)))
    finally:
        proc.kill()
    print(f"motcua   issued {issued} tickets in {args.seconds:.0f} s = {issued / args.seconds:.1f}/s; issue latency"
          f" p50 {percentile(issue_ms, .5):.1f} ms  p99 {percentile(issue_ms, .99):.1f} ms")
    report("motcua", args.displays, values, missed, len(call_sent))
    return values, missed, len(call_sent)


def run_bare(folder: Path, args) -> tuple[list[float], int, int]:
    """One run against the bare Flask-SocketIO app, the reference."""
    port = free_port()
    bare = start_bare(folder, port)
    try:
        values, missed, call_sent = asyncio.run(measure(
            f"http://127.0.0.1:{port}", args.displays, lambda http: drive_bare(http, f"http://127.0.0.1:{port}", args)))
    finally:
        bare.kill()
    report("bare", args.displays, values, missed, len(call_sent))
    return values, missed, len(call_sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--displays", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100, help="tickets issued per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--calls-per-s", type=float, default=5)
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--rounds", type=int, default=1,
                        help="pairs of runs, motcua and bare in turn (first one, then the other), pooled at the end:"
                             " the machine drifts between runs as much as the two differ")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # servers started below inherit it
    runs = {"motcua": run_motcua, "bare": run_bare}
    pooled = {name: ([], 0, 0) for name in runs}  # latencies, missed, calls
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            order = ["motcua"] if args.skip_bare else ["motcua", "bare"] if round_ % 2 == 0 else ["bare", "motcua"]
            this_round = {}
            for name in order:
                run_folder = Path(folder) / f"{name}-{round_}"
                run_folder.mkdir()
                this_round[name] = runs[name](run_folder, args)
                pooled[name] = tuple(a + b for a, b in zip(pooled[name], this_round[name]))
            if not args.skip_bare:
                fanout_goal(percentile(this_round["motcua"][0], .99), percentile(this_round["bare"][0], .99),
                            this_round["motcua"][1])
    if not args.skip_bare and args.rounds > 1:
        print(f"pooled over {args.rounds} rounds:")
        values, missed, calls = pooled["motcua"]
        motcua_p99 = report("motcua", args.displays, values, missed, calls)
        bare_p99 = report("bare", args.displays, *pooled["bare"])
        fanout_goal(motcua_p99, bare_p99, missed)


if __name__ == "__main__":
    main()
