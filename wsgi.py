"""Entry point for gunicorn (`wsgi:app`) and Celery (`-A wsgi:celery_app`)."""
import gc
import sys

import config
from mockup import multiprocess_metrics

if config.service_from_argv(sys.argv) == "worker":
    # Before anything creates a metric: the worker's pool processes add their values up, as gunicorn's
    # workers do (gunicorn.conf.py). One-off commands (`flask db upgrade`) keep theirs to themselves.
    multiprocess_metrics.enable(config.from_env())

from mockup import create_app  # noqa: E402  (after the lines above, by design)

app = create_app()
celery_app = app.extensions["celery"]
# What start-up made (modules, the URL map, the extensions) lives as long as the process: out of the cycle
# collector's generations, its full passes stop walking all of it in the middle of a request (a 100 ms
# pause every sixty requests of a list page, bench/scale_bench.py).
gc.freeze()
