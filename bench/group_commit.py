"""The store's writer under concurrent commits, as a server under gevent meets them: greenlets each committing
a ticket and its two events as fast as their commits return, synchronous=FULL on this disk.

    python bench/group_commit.py --greenlets 20 --seconds 10

Prints commits/s, each commit's latency (queued to durable) and the transactions it took (group commit: fewer
transactions than commits once commits wait for the writer).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

from motcua import audit  # noqa: E402
from motcua.core.model import CALLED, WAITING, Change, Event, Ticket  # noqa: E402
from motcua.store import Store  # noqa: E402


def change(n: int) -> Change:
    ticket = Ticket(id=f"t{n}", branch=f"b{n % 50}", service="civil", number=f"A{n:06d}", day="2026-03-02",
                    issued_at=n, created_at=n)
    return Change(tickets=[ticket], events=[Event(ticket.id, ticket.branch, None, WAITING, n),
                                            Event(ticket.id, ticket.branch, WAITING, CALLED, n + 0.5)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--greenlets", type=int, default=20, help="callers committing at once")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.db")
        latencies, commits, numbers = [], [], iter(range(1, 10**9))
        store.commit_observers.append(latencies.append)
        store.write(lambda db: db.conn.set_trace_callback(
            lambda sql: commits.append(1) if sql.strip().upper() == "COMMIT" else None))
        commits.clear()
        deadline = time.monotonic() + args.seconds

        def caller():
            while time.monotonic() < deadline:
                store.commit(change(next(numbers)))

        started = time.monotonic()
        gevent.joinall([gevent.spawn(caller) for _ in range(args.greenlets)], raise_error=True)
        elapsed = time.monotonic() - started
        verdict = store.read(lambda db: audit.verify(db.conn))
        store.close()
    ms = sorted(1000 * s for s in latencies)
    chained = f"broken at {verdict.broken['id']}" if verdict.broken else "whole"
    print(f"{args.greenlets} greenlets for {elapsed:.1f} s: {len(ms) / elapsed:.0f} commits/s in "
          f"{len(commits) / elapsed:.0f} transactions/s ({len(ms) / max(len(commits), 1):.1f} commits each); "
          f"latency p50 {statistics.median(ms):.1f} ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms; "
          f"audit chain {verdict.count} events, {chained}")


if __name__ == "__main__":
    main()
