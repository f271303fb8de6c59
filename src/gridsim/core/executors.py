"""Where runs execute: in this process, a local process pool, or a Dask cluster.

Every executor hands back results as runs finish, in whatever order; callers key
results by run, so tables do not depend on the executor or the number of workers.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any, Protocol

from gridsim.core.errors import InputError


class RunExecutor(Protocol):
    """Runs ``fn(arg)`` for each argument and yields ``(arg, result)`` as each finishes."""

    def map_unordered(self, fn: Callable[[Any], Any], args: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        """Yield (argument, result) pairs in completion order."""

    def close(self) -> None:
        """Stop the workers; runs not yet finished are abandoned."""


class SerialExecutor:
    """Runs everything in this process, one run after another."""

    def map_unordered(self, fn: Callable[[Any], Any], args: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        """Yield (argument, result) pairs in argument order."""
        for arg in args:
            yield arg, fn(arg)

    def close(self) -> None:
        """Nothing to stop."""


class ProcessExecutor:
    """A local pool of worker processes (spawned, so nothing leaks from this process)."""

    def __init__(self, workers: int) -> None:
        """Start ``workers`` processes lazily, on the first run."""
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                         initializer=start_worker, initargs=(os.getpid(),))

    def map_unordered(self, fn: Callable[[Any], Any], args: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        """Yield (argument, result) pairs in completion order."""
        futures: dict[Future[Any], Any] = {self._pool.submit(fn, arg): arg for arg in args}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self) -> None:
        """Cancel waiting runs and stop the pool."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def start_worker(parent_pid: int) -> None:
    """Set up a pool worker: Ctrl-C is the parent's to handle, and it dies with the parent.

    The parent stops the pool and says what was saved; a worker whose parent was killed
    (kill -9, out of memory) must not run on as an orphan.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid``, its parent, ends, however it ends.

    Linux: the kernel sends SIGKILL at the parent's death (prctl PR_SET_PDEATHSIG).
    Elsewhere: a daemon thread looks every ``PARENT_POLL_S`` whether the parent is gone.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # it died before the request was made
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass  # no libc prctl: watch instead
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    """End this process as soon as its parent is no longer ``parent_pid``."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 1.0


class DaskExecutor:
    """Runs on a Dask cluster: an existing scheduler's address, or ``local`` for a new one."""

    def __init__(self, address: str, workers: int) -> None:
        """Connect to ``address`` (``tcp://host:8786``) or start a LocalCluster."""
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--dask: Dask is not installed; pip install -e '.[dask]'") from None
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout="10s")
            except OSError as exc:
                raise InputError(f"--dask {address}: cannot reach the scheduler ({exc}); "
                                 "check the address or use --dask local") from None

    def map_unordered(self, fn: Callable[[Any], Any], args: Iterable[Any]
                      ) -> Iterator[tuple[Any, Any]]:
        """Yield (argument, result) pairs in completion order."""
        from dask.distributed import as_completed as dask_completed

        arg_list = list(args)
        futures = self._client.map(fn, arg_list, pure=False)
        by_key = {future.key: arg for future, arg in zip(futures, arg_list, strict=True)}
        for future in dask_completed(futures):
            yield by_key[future.key], future.result()

    def close(self) -> None:
        """Disconnect, and stop the LocalCluster if this executor started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None, dask: str | None) -> RunExecutor:
    """Return the executor for ``--workers`` / ``--dask`` (default: one process per core)."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise InputError(f"--workers {count}: must be at least 1")
    if dask is not None:
        return DaskExecutor(dask, count)
    return SerialExecutor() if count == 1 else ProcessExecutor(count)
