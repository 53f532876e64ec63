"""Entry point for gunicorn (`wsgi:app`) and Celery (`-A wsgi:celery_app`)."""
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
