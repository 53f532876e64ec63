"""A Celery entry point for tests/test_faults.py: the real app, tasks and job code, with an engine whose
every call kills the worker's child process on the spot, as a crash in native code would."""
from __future__ import annotations

import os

from mockup import create_app
from mockup.services import execution


class CrashingEngine:
    name = "crashing"

    def generate(self, request) -> None:
        os._exit(70)

    edit = generate


# Set before the pool forks, so every child inherits it.
execution.get_engine = lambda name, config: CrashingEngine()
app = create_app()
celery_app = app.extensions["celery"]
