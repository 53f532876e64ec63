"""Extensions are created unbound here and bound to the app in create_app()."""
import sqlite3

from flask import current_app
from flask_babel import Babel
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite ignores ON DELETE CASCADE / SET NULL unless asked, per connection; PostgreSQL always obeys."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# shared/API.md and DESIGN.md: 60 requests per minute per user, counted over pages and API together.
REQUESTS_PER_MINUTE = "60 per minute"
RATE_LIMITED_MESSAGE = "Too many requests: at most 60 a minute. Please wait a moment."


def address_key() -> str:
    """The client's address (after ProxyFix, so only PROXY_COUNT trusted hops decide it)."""
    return f"addr:{get_remote_address()}"


def rate_limit_key() -> str:
    """The signed-in user, else the client's address: mockup.callers.rate_limit_key, which create_app
    installs (it reads bearer tokens through the services, which build on this module)."""
    return current_app.extensions["rate_limit_key"]()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# An application limit is one counter per key over every route not marked @limiter.exempt.
limiter = Limiter(key_func=rate_limit_key, application_limits=[
    ApplicationLimit(REQUESTS_PER_MINUTE, error_message=RATE_LIMITED_MESSAGE),
])
babel = Babel()

