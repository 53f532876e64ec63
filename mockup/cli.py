"""Command-line tools: `flask users create EMAIL`, `flask backup create|restore PATH`,
`flask storage orphans [--delete]` and `flask storage recount`."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import click
from flask.cli import AppGroup

from .errors import ServiceError
from .services import accounts, backup as backups, storage_usage

users = AppGroup("users", help="Manage user accounts.")
backup = AppGroup("backup", help="Save the database and DATA_DIR to one archive, or restore one.")
storage = AppGroup("storage", help="What the stored files take, and the files no row refers to.")


@contextmanager
def _refusal_as_message() -> Iterator[None]:
    """A refused operation ends the command with its message (exit status 1), never a traceback."""
    try:
        yield
    except ServiceError as error:
        details = "; ".join(f"{field}: {message}" for field, message in error.fields.items())
        raise click.ClickException(f"{error.message} {details}".strip()) from error


@users.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the part of the email before @).")
@click.option("--admin", is_flag=True, help="Make this user an administrator (accounts, invitations, usage, "
                                            "everyone's jobs). The first account always is one.")
@click.password_option(help="Prompted for when not given.")
def create_user(email: str, name: str, admin: bool, password: str) -> None:
    """Create a user account, whatever REGISTRATION says: whoever runs this command administers the server."""
    with _refusal_as_message():
        user = accounts.register(email, password, name or email.split("@")[0], by_admin=True, is_admin=admin)
    click.echo(f"Created user {user.email} ({user.id}).")


ARCHIVE = click.Path(dir_okay=False)


@backup.command("create")
@click.argument("path", type=ARCHIVE)
def create_backup(path: str) -> None:
    """Write a backup archive to PATH (a new file) while the app keeps running."""
    _run(backups.create_backup, path, "Backed up {summary} to {path}.")


@backup.command("restore")
@click.argument("path", type=ARCHIVE)
def restore_backup(path: str) -> None:
    """Restore the archive at PATH into this installation, which must be empty (run `flask db upgrade` first)."""
    _run(backups.restore_backup, path, "Restored {summary} from {path} (made {created_at}).")


def _run(operation: Callable[[str], dict], path: str, done: str) -> None:
    with _refusal_as_message():
        manifest = operation(path)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    summary = f"{rows} rows in {len(manifest['tables'])} tables and {len(manifest['files'])} files"
    click.echo(done.format(summary=summary, path=path, created_at=manifest["created_at"]))


@storage.command("orphans")
@click.option("--delete", is_flag=True, help="Remove the files listed (without it, only list them).")
def storage_orphans(delete: bool) -> None:
    """List the files under DATA_DIR that no row refers to (older than an hour, so no job's unfinished
    work is among them), with their sizes; --delete removes them."""
    found = storage_usage.remove_orphans() if delete else storage_usage.orphans()
    for orphan in found:
        click.echo(f"{orphan.bytes}\t{orphan.path}")
    total = storage_usage.human(sum(orphan.bytes for orphan in found))
    verb = "Removed" if delete else "Found"
    hint = "" if delete or not found else " Run again with --delete to remove them."
    click.echo(f"{verb} {len(found)} files no row refers to, {total}.{hint}")


@storage.command("recount")
def storage_recount() -> None:
    """Measure every image's, generation's and character's files again (once after upgrading to the
    release that counts them)."""
    click.echo(f"Measured the files of every row again; {storage_usage.recount()} counts changed.")
