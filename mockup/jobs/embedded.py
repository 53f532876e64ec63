"""The embedded runner (no REDIS_URL): the same job function on a small thread pool inside the web
process, fed from the database, so a restarted process resumes the queued work."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from ..extensions import db
from . import context, order, runner
from .lifecycle import JobTable
from .order import TABLES_BY_NAME

log = logging.getLogger(__name__)
POLL_S = 1.0


class EmbeddedRunner:
    def __init__(self, app: Flask, workers: int, *, autostart: bool = True) -> None:
        self.app = app
        self.workers = workers
        self.autostart = autostart
        self._started = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-dispatcher", daemon=True)

    def ensure_started(self) -> None:
        """Start once, on first use; tests that run jobs themselves turn autostart off."""
        if self._started or not self.autostart:
            return
        with self._lock:
            if self._started:
                return
            self._started = True
        self.start()

    def start(self) -> None:
        with self.app.app_context():
            # Jobs marked running belong to a process that is gone: this process is the only runner.
            runner.reap(orphans=True)
        self._thread.start()

    def submit(self, table: str, job_id: str, priority: int) -> None:
        """The hand-off (handoff.submit): the job is read from the database; only its log context and a
        wake-up are needed."""
        context.remember(job_id)
        self.wake()

    def dispatch(self) -> None:
        """Room was made (handoff.dispatch): the loop takes the next jobs in fair order."""
        self.wake()

    def wake(self) -> None:
        self.ensure_started()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._dispatch()
            except Exception:
                log.exception("embedded runner could not read the queue")
            self._wake.wait(POLL_S)
            self._wake.clear()

    def _dispatch(self) -> None:
        with self._lock:
            busy = set(self._running)
        free = self.workers - len(busy)
        if free <= 0:
            return
        with self.app.app_context():
            # The queue's fair order (order.py), past the jobs this runner has taken but not yet claimed.
            waiting = [turn for turn in db.session.execute(order.fair_order().limit(free + len(busy)))
                       if turn.id not in busy][:free]
        for turn in waiting:
            with self._lock:
                self._running.add(turn.id)
            self._pool.submit(self._run, TABLES_BY_NAME[turn.job_table], turn.id)

    def _run(self, table: JobTable, job_id: str) -> None:
        with context.restored(job_id):
            try:
                with self.app.app_context():
                    runner.run(table, job_id)
            except Exception:
                log.exception("job %s failed in the embedded runner", job_id)
            finally:
                with self._lock:
                    self._running.discard(job_id)
                self._wake.set()
