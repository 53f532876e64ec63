"""The JSON API (shared/API.md): thin handlers that parse the request, call one service and serialize.

Importing the route modules attaches their views to the blueprint."""
from . import auth, batches, characters, exports, generations, history, images, members, openapi, projects, review, users  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
