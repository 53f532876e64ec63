"""Image generators behind one interface (base.Engine). One instance per engine and process, so the
Gemini client and its rate limiter are shared by every job the process runs."""
from __future__ import annotations

import threading
from typing import Mapping

from .base import Engine

_engines: dict[str, Engine] = {}
_lock = threading.Lock()

ENGINE_NAMES = ("gemini", "local")


def get_engine(name: str, config: Mapping) -> Engine:
    with _lock:
        if name not in _engines:
            _engines[name] = _build(name, config)
        return _engines[name]


def _build(name: str, config: Mapping) -> Engine:
    if name == "gemini":
        from .gemini import GeminiEngine

        return GeminiEngine.from_config(config)
    if name == "local":
        from .local import LocalEngine

        return LocalEngine()
    raise ValueError(f"unknown engine {name!r}; choose one of {ENGINE_NAMES}")


def reset_engines() -> None:
    """Forget built engines (tests point the Gemini engine at different fake servers)."""
    with _lock:
        _engines.clear()
