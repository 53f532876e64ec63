"""The DATA_DIR layout (DESIGN.md section 6). Every path on disk is built here, from ids only, never
from anything a user sent. The database stores paths relative to DATA_DIR.

    uploads/{userId}/{projectId}/{uuid}.{ext}
    generations/{userId}/{projectId}/{generationId}/output_{n}.png
    generations/{userId}/{projectId}/{generationId}/{source,mask}.png   (a region edit's inputs)
    upscaled/{imageId}_2k.png
    characters/{userId}/{characterId}.png
    characters/{userId}/{characterId}_cutout.png   (its background removed; the upload stays)
    staging/{userId}/{stagedId}.upload      (an upload kept for a form sent back with an error, for an hour)
    ...plus a `_thumb.jpg` thumbnail beside each stored image.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Iterator

from flask import current_app

from .errors import N_, Unavailable

_ID = re.compile(r"[0-9a-f]{32}")
_EXTENSIONS = {"png", "jpg", "webp"}
DISK_FULL_MESSAGE = N_(
    "The server's disk is full, so nothing was saved. Please tell your administrator, then try again.")


def _id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(f"not a storage id: {value!r}")
    return value


def root() -> Path:
    return Path(current_app.config["DATA_DIR"])


def beat_schedule(data_dir: str) -> str:
    """Celery beat's last-run times: in DATA_DIR, the one folder a container may write to. Takes the
    folder because beat is configured before any app context exists."""
    return str(Path(data_dir) / "celerybeat-schedule")


def metrics_folder(metrics_dir: str, service: str, host: str) -> Path:
    """Where one service instance's processes keep their Prometheus values (multiprocess mode). One
    folder per service and host, because the value files are named by process id and the web and
    worker containers number their processes alike. Takes the folder: chosen before any app exists."""
    return Path(metrics_dir) / f"{service}-{host}"


def metrics_value_files(metrics_dir: str) -> list[str]:
    """The value files of every service folder in METRICS_DIR, which /metrics adds up."""
    return [str(path) for path in Path(metrics_dir).glob("*/*.db")]


# The folders holding what users made; everything else in DATA_DIR (the SQLite file, `./dev run`'s key,
# beat's schedule) belongs to the installation.
STORED_AREAS = ("uploads", "generations", "upscaled", "characters", "staging")
_TEMPORARY = ".tmp-"  # write_atomic's unfinished files


def stored_files() -> list[str]:
    """Every finished file users' work left in DATA_DIR (relative paths, sorted): what a backup keeps and
    what an installation must not have before a restore."""
    base = root()
    found = []
    for area in STORED_AREAS:
        for folder, _, names in os.walk(base / area):
            found += [os.path.relpath(os.path.join(folder, name), base) for name in names
                      if not name.startswith(_TEMPORARY)]
    return sorted(Path(rel).as_posix() for rel in found)


def is_stored_file(rel: str) -> bool:
    """Whether a relative path names a file in one of the areas (a backup's file list is checked with it)."""
    parts = PurePosixPath(rel).parts
    return len(parts) > 1 and parts[0] in STORED_AREAS and ".." not in parts


def bytes_used() -> int:
    """Bytes of every file under DATA_DIR, for the operators' metrics."""
    return _folder_bytes(root())


def size(*rels: str | None) -> int:
    """Bytes of the stored files named (missing ones and None count 0): what a row's files take."""
    total = 0
    for rel in rels:
        if rel:
            try:
                total += resolve(rel).stat().st_size
            except FileNotFoundError:
                continue
    return total


def modified_at(rel: str) -> float:
    """When a stored file was last written (seconds since the epoch)."""
    return resolve(rel).stat().st_mtime


def disk_usage() -> tuple[int, int]:
    """(free, total) bytes of the disk DATA_DIR is on; measured at its nearest existing folder, since
    nothing may have been stored yet."""
    folder = root().resolve()
    while not folder.exists():
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    return usage.free, usage.total


def _folder_bytes(folder: Path) -> int:
    total = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:  # deleted while being counted (a project removed meanwhile), or not ours (lost+found)
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += _folder_bytes(Path(entry.path))
            else:
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def resolve(rel: str) -> Path:
    """Absolute path of a stored relative path; refuses anything that would leave DATA_DIR."""
    base = root().resolve()
    path = (base / rel).resolve()
    if base not in path.parents:
        raise ValueError(f"path outside DATA_DIR: {rel!r}")
    return path


def upload(user_id: str, project_id: str, ext: str) -> str:
    if ext not in _EXTENSIONS:
        raise ValueError(f"unexpected extension {ext!r}")
    return f"uploads/{_id(user_id)}/{_id(project_id)}/{uuid.uuid4().hex}.{ext}"


def generation_dir(user_id: str, project_id: str, generation_id: str) -> str:
    return f"generations/{_id(user_id)}/{_id(project_id)}/{_id(generation_id)}"


def output(user_id: str, project_id: str, generation_id: str, index: int) -> str:
    return f"{generation_dir(user_id, project_id, generation_id)}/output_{int(index)}.png"


def edit_input(user_id: str, project_id: str, generation_id: str, kind: str) -> str:
    """A region edit's own copy of the image it edits ("source") or of its mask ("mask"), kept with its
    outputs so that deleting the edited image later breaks neither a queued edit nor its history."""
    if kind not in ("source", "mask"):
        raise ValueError(f"unexpected edit input {kind!r}")
    return f"{generation_dir(user_id, project_id, generation_id)}/{kind}.png"


def character_image(user_id: str, image_id: str) -> str:
    """One reference image of a character sheet (a character's first image from before sheets existed
    keeps its old name, the character's id, which is also that image's id)."""
    return f"characters/{_id(user_id)}/{_id(image_id)}.png"


def character_cutout(character_path: str) -> str:
    """A character's picture with the background removed, kept beside its original upload (whichever
    project member removed it, the file lives with the upload)."""
    return variant(character_path, "cutout", "png")


def staged_upload(user_id: str, staged_id: str) -> str:
    """An upload as it was sent (it passed intake), kept for a form that came back with an error and
    removed after the hour (services/staging.py); backed up with its row like any stored file."""
    return f"staging/{_id(user_id)}/{_id(staged_id)}.upload"


def upscaled(image_id: str) -> str:
    return f"upscaled/{_id(image_id)}_2k.png"


def thumbnail(rel: str) -> str:
    """The thumbnail stored beside an image."""
    path = PurePosixPath(rel)
    return str(path.with_name(f"{path.stem}_thumb.jpg"))


def with_thumbnails(*rels: str | None) -> list[str]:
    """Stored images and the thumbnail beside each (None skipped): what deleting them removes."""
    return [path for rel in rels if rel for path in (rel, thumbnail(rel))]


def variant(rel: str, suffix: str, ext: str) -> str:
    """A derived file stored beside an image (a format conversion, a cut-out)."""
    path = PurePosixPath(rel)
    return str(path.with_name(f"{path.stem}_{suffix}.{ext}"))


def project_dirs(user_id: str, project_id: str) -> list[str]:
    return [f"uploads/{_id(user_id)}/{_id(project_id)}", f"generations/{_id(user_id)}/{_id(project_id)}"]


def user_dirs(user_id: str) -> list[str]:
    return [f"{area}/{_id(user_id)}" for area in ("uploads", "generations", "characters", "staging")]


def staging_dir(user_id: str) -> str:
    return f"staging/{_id(user_id)}"


def write_atomic(rel: str, data: bytes) -> Path:
    """Write to a temporary file in the target folder, then rename it into place, so a reader or a
    crash never sees half a file. A full disk is Unavailable, with a sentence for the user."""
    path = resolve(rel)
    with _disk_full_is_unavailable():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY, suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


@contextmanager
def _disk_full_is_unavailable() -> Iterator[None]:
    """ENOSPC and EDQUOT are no bug of the request: say so, and let callers refuse it like any other
    service error (HTTP 503, or a failed job) instead of answering with a crash."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise Unavailable(DISK_FULL_MESSAGE) from error
        raise


def read(rel: str) -> bytes:
    return resolve(rel).read_bytes()


def exists(rel: str | None) -> bool:
    return bool(rel) and resolve(rel).is_file()


def remove_empty(*rels: str) -> None:
    """Remove folders that hold no file any more (their empty subfolders with them); a folder that still
    holds a file is left as it is."""
    for rel in rels:
        path = resolve(rel)
        if not path.is_dir():
            continue
        for folder, _, _ in sorted(os.walk(path), key=lambda entry: -len(entry[0])):
            with suppress(OSError):
                os.rmdir(folder)


def remove(*rels: str | None) -> None:
    """Remove files and folders; missing ones are fine (a delete is repeatable)."""
    for rel in rels:
        if not rel:
            continue
        path = resolve(rel)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


class Staging:
    """Files written during one service operation; removed again if the operation fails, so a
    rejected request or a failed commit leaves nothing behind."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, rel: str, data: bytes) -> str:
        write_atomic(rel, data)
        self.written.append(rel)
        return rel


@contextmanager
def staged() -> Iterator[Staging]:
    staging = Staging()
    try:
        yield staging
    except BaseException:
        remove(*staging.written)
        raise
