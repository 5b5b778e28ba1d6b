"""The read executor: one pool for the reads too long for a request's own turn (a branch's report over
months is read and summed in a second or more), each with a time limit.

Under gevent (serve, demo) the pool is native threads, so a long read blocks neither the hub nor,
beyond its threads, the machine; elsewhere (tests, threading mode) it is a thread pool all the same.
A read that overruns its limit is answered at once, `ReadTimedOut` (503 `read_timed_out`: try again
later), rather than left hanging; its thread finishes the work and is free again.
"""
from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from motcua.core.model import StorageUnavailable
from motcua.store import under_gevent

T = TypeVar("T")
THREADS = 2   # reads at once: the machine's cores; more queue, and their wait counts in their limit


class ReadTimedOut(StorageUnavailable):
    """A read took longer than its limit: nothing changed; try again later."""

    code = "read_timed_out"


class Reads:
    """Runs reads on its threads, each answered within `limit_s` or refused."""

    def __init__(self, limit_s: float, threads: int = THREADS) -> None:
        self.limit_s = limit_s
        self.threads = threads
        self._pool = None

    def run(self, fn: Callable[..., T], *args) -> T:
        """fn(*args) on the executor: its result, or ReadTimedOut once limit_s has passed."""
        if under_gevent():
            import gevent

            try:
                return self._gevent_pool().spawn(fn, *args).get(timeout=self.limit_s)
            except gevent.Timeout:
                raise self._overrun() from None
        try:
            return self._thread_pool().submit(fn, *args).result(timeout=self.limit_s)
        except concurrent.futures.TimeoutError:
            raise self._overrun() from None

    def _overrun(self) -> ReadTimedOut:
        return ReadTimedOut(f"the read took longer than {self.limit_s:g} s: try again later")

    def _gevent_pool(self):
        if self._pool is None:
            from gevent.threadpool import ThreadPool

            self._pool = ThreadPool(self.threads)
        return self._pool

    def _thread_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix="motcua-read")
        return self._pool


@cache
def reads(limit_s: float) -> Reads:
    """The process's read executor (one per limit: the configuration's)."""
    return Reads(limit_s)
