"""gunicorn's settings wherever it serves the app from this folder (the container, `./dev run`, by hand):
gunicorn reads ./gunicorn.conf.py by itself, and flags on its command line still win.

Everything comes from config.py, like the app's own settings."""
from __future__ import annotations

from gunicorn import glogging

from config import from_env  # imported by name: a module-level `config` would be gunicorn's -c setting
from mockup import multiprocess_metrics
from mockup.logging_setup import formatter

settings = from_env()
# Set here, in the arbiter, so the workers it forks inherit it: they add their metrics up (/metrics).
multiprocess_metrics.enable(settings)

bind = [f"{settings['HOST']}:{settings['PORT']}"]
# A 2K download may run the upscaler in the request (about 7 s on 2 cores, more with the larger models);
# nginx's proxy_read_timeout (deploy/nginx.conf) is longer still, so this is the limit that decides.
timeout = 120
# No runtime control socket: nothing here uses it, and its default path in $HOME is shared by every
# gunicorn of one user on a machine.
control_socket_disable = True


class Logger(glogging.Logger):
    """gunicorn's own lines (starting, booting workers, timeouts) in the app's format: JSON in production.
    The app's access lines come from Flask (mockup/logging_setup.py), with the request id."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(formatter(settings))


logger_class = Logger


def on_starting(server) -> None:
    multiprocess_metrics.reset()


def child_exit(server, worker) -> None:
    multiprocess_metrics.process_dead(worker.pid)
