"""Prometheus values shared by every process of the deployment (prometheus_client's multiprocess mode).

gunicorn's workers and Celery's pool processes each keep their own counters; in multiprocess mode they
write them into files that /metrics adds up, so a scrape of any one web worker sees the requests of all
of them and the jobs the Celery workers ran. The mode has to be chosen before prometheus_client is first
imported, so `wsgi.py` and `gunicorn.conf.py` call `enable()` before anything imports a metric, and this
module imports prometheus_client only inside its functions.

The files live in METRICS_DIR, in a folder per service and host (storage.metrics_folder); docker-compose.yml
mounts one memory-backed volume there in the web and worker containers, so that /metrics sees both. A
service empties its own folder when it starts, as prometheus_client asks; the folder of a container that
is gone for good stays until the volume is recreated.
"""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import Mapping

from . import storage

ENV = "PROMETHEUS_MULTIPROC_DIR"


def enable(settings: Mapping) -> None:
    """Switch this process, and the processes it starts, to multiprocess mode (before any metric exists)."""
    folder = storage.metrics_folder(settings["METRICS_DIR"], settings["SERVICE_NAME"], socket.gethostname())
    # Private to this user where it is made here (the default METRICS_DIR lives in the shared temp folder).
    folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    os.environ[ENV] = str(folder)


def enabled() -> bool:
    return ENV in os.environ


def reset() -> None:
    """Forget the values of this service's earlier run: called once as the service starts, before its
    worker processes exist."""
    folder = Path(os.environ[ENV])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def forget_dead_processes() -> None:
    """Drop the live gauges of this folder's processes that are gone without saying so (a pool process
    killed by the hard time limit or the OOM killer). Only this folder: its processes share our pid
    namespace, the other services' may not."""
    for path in Path(os.environ[ENV]).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not _alive(pid):
            process_dead(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def process_dead(pid: int) -> None:
    """Drop the live gauges (memory, CPU) of a worker process that exited; its counts stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, os.environ[ENV])
