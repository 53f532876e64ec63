"""Backups (issue 15): one tar archive holding a consistent snapshot of every table and every file users
made in DATA_DIR, taken while the app runs, and its restore into an empty installation.

The tables are read in one read-only transaction (REPEATABLE READ on PostgreSQL, one read transaction on
SQLite), so the rows agree with each other whatever is written meanwhile, and stored as JSON lines: one
format for both databases (an installation can move from SQLite to PostgreSQL with it), needing no
`pg_dump` of the server's version in the image. The files are copied after the snapshot: a row is
committed only once its files are written, so every file the snapshot names is on disk by then.

    tables/<table>.jsonl    one JSON object per row
    files/<path>            each stored file, at its path relative to DATA_DIR
    manifest.json           format, Alembic revision, time, rows per table and the SHA-256 of every member
"""
from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Iterator

from sqlalchemy import JSON, Connection, DateTime, Table, func, inspect, null, select, text, update

from .. import storage
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import utcnow

FORMAT = 1
MANIFEST = "manifest.json"
EMPTY_ONLY = ("A backup is restored into an empty installation only (a new database after `flask db upgrade`, "
              "and an empty DATA_DIR).")


def create_backup(path: str) -> dict[str, Any]:
    """Write the archive to `path` (a new file, readable by its owner only); returns its manifest."""
    target = Path(path)
    if target.exists():
        raise Conflict(f"{target} already exists; give the backup a new name.")
    if not target.parent.is_dir():
        raise Invalid(f"The folder {target.parent} does not exist.")
    revision, tables = _snapshot()
    with _new_archive(target) as archive:
        manifest = {
            "format": FORMAT, "alembic_revision": revision, "created_at": utcnow().isoformat(),
            "database": db.engine.dialect.name,
            "tables": {name: {"rows": len(rows), "sha256": _add(archive, _table_member(name), _jsonl(rows))}
                       for name, rows in tables.items()},
            "files": _add_files(archive),
        }
        _add(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
    return manifest


def restore_backup(path: str) -> dict[str, Any]:
    """Put an archive's rows and files into this installation, which must be empty and at the archive's
    schema revision; every member is checked against its checksum before use. Returns the manifest."""
    if not Path(path).is_file():
        raise Invalid(f"{path} is not a file.")
    try:
        with tarfile.open(path, "r:") as archive:
            manifest = _manifest(archive)
            _refuse_unless_empty(manifest.get("alembic_revision"))
            tables = {name: _rows(_member(archive, _table_member(name), table["sha256"]))
                      for name, table in manifest["tables"].items()}
            with storage.staged() as staging:
                for rel, digest in manifest["files"].items():
                    staging.write(rel, _member(archive, f"files/{rel}", digest))
                _insert(tables)
    except (tarfile.TarError, EOFError) as error:
        raise Invalid(f"{path} is not a readable Mockup Studio backup ({error}).") from error
    return manifest


# -- taking the snapshot


@contextmanager
def _snapshot_transaction() -> Iterator[Connection]:
    """One transaction whose every read sees the database as it was at the first one."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        elif connection.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads: without BEGIN each SELECT would see its own moment.
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def _snapshot() -> tuple[str, dict[str, list[dict[str, Any]]]]:
    with _snapshot_transaction() as connection:
        revision = _revision(connection)
        if revision is None:
            raise Invalid("This database has no schema yet; run `flask db upgrade` first.")
        return revision, {
            table.name: [dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key))]
            for table in db.metadata.sorted_tables
        }


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(row, default=_json_value, ensure_ascii=False).encode() + b"\n" for row in rows)


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a backup")


# -- the archive


def _table_member(name: str) -> str:
    return f"tables/{name}.jsonl"


@contextmanager
def _new_archive(target: Path) -> Iterator[tarfile.TarFile]:
    """A tar archive written beside `target` under a temporary name (mode 0600: it holds password hashes)
    and renamed into place once complete, so a failed backup never leaves a half archive behind."""
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:") as archive:
            yield archive
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> str:
    """Add one member; returns its SHA-256."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    archive.addfile(info, BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _add_files(archive: tarfile.TarFile) -> dict[str, str]:
    """Every stored file, read once (its checksum is of the bytes archived); a file deleted since the
    listing went with rows deleted after the snapshot."""
    files = {}
    for rel in storage.stored_files():
        try:
            data = storage.read(rel)
        except FileNotFoundError:
            continue
        files[rel] = _add(archive, f"files/{rel}", data)
    return files


def _member(archive: tarfile.TarFile, name: str, digest: str) -> bytes:
    try:
        handle: IO[bytes] | None = archive.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise Invalid(f"The backup lacks {name}, which its manifest lists; it is incomplete.")
    data = handle.read()
    if hashlib.sha256(data).hexdigest() != digest:
        raise Invalid(f"{name} in the backup does not match its checksum; the archive is damaged.")
    return data


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError):
        raise Invalid("This archive has no readable manifest.json; it is not a Mockup Studio backup.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise Invalid(f"This backup has format {found!r}; this version reads format {FORMAT}.")
    if not _lists_tables_and_files(manifest):
        raise Invalid("The backup's manifest.json lacks its tables or files; the archive is damaged.")
    if set(manifest["tables"]) != set(db.metadata.tables):
        raise Invalid("The backup's tables are not this version's tables.")
    strays = [rel for rel in manifest["files"] if not storage.is_stored_file(rel)]
    if strays:
        raise Invalid(f"The backup names files outside DATA_DIR's stored folders: {', '.join(strays[:3])}.")
    return manifest


def _lists_tables_and_files(manifest: dict[str, Any]) -> bool:
    tables, files = manifest.get("tables"), manifest.get("files")
    return isinstance(tables, dict) and isinstance(files, dict) and all(
        isinstance(table, dict) and {"rows", "sha256"} <= set(table) for table in tables.values())


# -- restoring


def _refuse_unless_empty(revision: str | None) -> None:
    here = _revision(db.session.connection())
    if here is None:
        raise Conflict(f"This database has no schema yet; run `flask db upgrade` first. {EMPTY_ONLY}")
    if here != revision:
        raise Conflict(f"The backup was made at schema revision {revision}, this database is at {here}; "
                       "restore with the version of Mockup Studio that made the backup.")
    filled = [table.name for table in db.metadata.sorted_tables
              if db.session.scalar(select(func.count()).select_from(table))]
    if filled:
        raise Conflict(f"The database already holds rows (in {', '.join(filled)}). {EMPTY_ONLY}")
    if storage.stored_files():
        raise Conflict(f"DATA_DIR ({storage.root()}) already holds stored files. {EMPTY_ONLY}")


def _rows(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def _insert(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Every row in one transaction, parents before children. A foreign key that closes a cycle (a
    generation's parent image) is filled in by an update once both sides exist."""
    cycles: list[tuple[Table, dict[str, Any], list[str]]] = []
    try:
        for table in db.metadata.sorted_tables:
            rows = [_typed(table, row) for row in tables[table.name]]
            later = [fk.parent.name for fk in table.foreign_keys if fk.use_alter]
            if rows:
                db.session.execute(table.insert(), [{**row, **dict.fromkeys(later)} for row in rows])
            cycles += [(table, row, later) for row in rows if any(row[name] is not None for name in later)]
        for table, row, later in cycles:
            db.session.execute(update(table).where(*(column == row[column.name] for column in table.primary_key))
                               .values({name: row[name] for name in later}))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _typed(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A row as the columns take it: datetimes back from ISO text; an empty JSON column as SQL NULL
    (None there would be stored as the JSON value null)."""
    typed = dict(row)
    for column in table.columns:
        value = typed.get(column.name)
        if value is None:
            typed[column.name] = null() if isinstance(column.type, JSON) else None
        elif isinstance(getattr(column.type, "impl", column.type), DateTime):  # models.UTCDateTime too
            typed[column.name] = datetime.fromisoformat(value)
    return typed
