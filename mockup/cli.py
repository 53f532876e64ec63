"""Command-line tools: `flask users create EMAIL`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .errors import ServiceError
from .services import accounts

users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the part of the email before @).")
@click.option("--admin", is_flag=True, help="Let this user see everyone's jobs.")
@click.password_option(help="Prompted for when not given.")
def create_user(email: str, name: str, admin: bool, password: str) -> None:
    """Create a user account."""
    try:
        user = accounts.register(email, password, name or email.split("@")[0], is_admin=admin)
    except ServiceError as error:
        details = "; ".join(f"{field}: {message}" for field, message in error.fields.items())
        raise click.ClickException(f"{error.message} {details}".strip()) from error
    click.echo(f"Created user {user.email} ({user.id}).")
