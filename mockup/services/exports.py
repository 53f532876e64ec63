"""Exporting images as one zip (shared/API.md, "Export"): a project's history, its selected or approved
images (or one batch), or any list of images the caller may view (the gallery's selection), as PNG,
JPEG or WEBP in 1K or 2K, under descriptive unique names, with manifest.csv and manifest.json.

Two steps, so that a refusal comes before the first byte: `export_project` / `export_images` check
everything, start missing 2K upscales and answer either Preparing (ready of total) or an Export, the
plan of every file; `stream(export, project_json)` then writes the zip as it goes (zipstream-ng), a
chunk of one file in memory at a time, so a big export never sits whole in memory or on disk."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from zipstream import ZIP_STORED, ZipStream

from .. import storage
from ..errors import N_, Invalid, NotFound, Unavailable
from ..extensions import db
from ..imaging.formats import PNG_HEAD_BYTES, is_png_head, png_text_chunks
from ..jobs import PRIORITY_BATCH
from ..models import JOB_UPSCALE, Batch, Character, Generation, HistoryEntry, Image as ImageRow, Project, utcnow
from . import access, image_jobs
from .images import DOWNLOAD_FORMATS, checked_format, converted_path, get_image, slug
from .image_jobs import PENDING_RETRY_AFTER_S

SIZES = ("1k", "2k")
SCOPES = ("history", "selected", "approved")
SELECTION = "selection"  # the scope named in the manifest of an explicit list of images
_BATCH_SCOPE = re.compile(r"batch:([0-9a-f]{32})")
MANIFEST_COLUMNS = ("file", "image_id", "generation_id", "batch_id", "mode", "characters", "prompt",
                    "review_state", "created_at", "cost_usd")
CHUNK_BYTES = 256 * 1024  # how much of a stored JPEG or WEBP is read at a time into the stream
EMPTY = {
    "history": N_("There is nothing to export: the project history is empty. Save images to it first."),
    "selected": N_("There is nothing to export: no generation of this project has a selected image yet."),
    "approved": N_("There is nothing to export: no image of this project is approved yet."),
    SELECTION: N_("Choose at least one image to export."),
}
EMPTY_SCOPE = N_("There is nothing to export in this scope.")  # a batch without finished images


@dataclass(frozen=True)
class ExportFile:
    """One image of the zip: its name there, the stored PNG it is made from, its manifest row
    ("characters" as a list) and the text chunks an exported PNG carries."""

    name: str
    source: str
    record: dict[str, Any]
    text: dict[str, str]


@dataclass(frozen=True)
class Export:
    """Everything the zip holds, decided before its first byte is sent. `project` is None for a
    selection spanning several projects."""

    project: Project | None
    role: str | None
    scope: str
    fmt: str
    files: list[ExportFile]
    created_at: datetime = field(default_factory=utcnow)

    @property
    def filename(self) -> str:
        name = slug(self.project.name, "project") if self.project else "images"
        return f"{name}_{slug(self.scope, 'export')}_{self.created_at:%Y-%m-%d}.zip"


@dataclass(frozen=True)
class Preparing:
    """Not a failure: `ready` of `total` 2K files exist, the rest are being made."""

    ready: int
    total: int
    retry_after: int = PENDING_RETRY_AFTER_S


def checked_options(fmt: str | None, size: str | None) -> tuple[str, str]:
    """The format and size, or Invalid naming the wrong one (checked before anything is looked up)."""
    size = (size or "1k").lower()
    if size not in SIZES:
        raise Invalid(N_("Choose 1k or 2k as the size."), fields={"size": N_("Choose 1k or 2k.")})
    return checked_format(fmt), size


def export_project(user_id: str, project_id: str, scope: str | None, fmt: str | None,
                   size: str | None) -> Export | Preparing:
    """A project's `history` (the default), `selected`, `approved` or `batch:<id>` images, for any
    member (viewers download too); a stranger gets NotFound."""
    fmt, size = checked_options(fmt, size)
    scope = scope or "history"
    project, role = access.project_for(user_id, project_id)
    return _export(user_id, scope_images(project, scope), project, role, scope, fmt, size)


def export_images(user_id: str, image_ids: list[str], fmt: str | None, size: str | None) -> Export | Preparing:
    """The gallery's entry: these images (each one the caller may view, else NotFound), in the order
    given, once each, from one project or several."""
    fmt, size = checked_options(fmt, size)
    images = [get_image(user_id, image_id) for image_id in dict.fromkeys(image_ids)]
    projects = {image.generation.project_id: image.generation.project for image in images}
    project = next(iter(projects.values())) if len(projects) == 1 else None
    role = access.role_of(user_id, project) if project else None
    return _export(user_id, images, project, role, SELECTION, fmt, size)


# What a file's name and manifest row read of its generation, loaded with the images (not one query each).
_WITH_GENERATION = (joinedload(ImageRow.generation).joinedload(Generation.project),
                    joinedload(ImageRow.generation).selectinload(Generation.images))


def scope_images(project: Project, scope: str) -> list[ImageRow]:
    """The images a scope names, in the order the zip lists them."""
    batch = _BATCH_SCOPE.fullmatch(scope)
    if batch:
        return batch_images(project, batch.group(1))
    if scope not in SCOPES:
        raise Invalid(N_("Choose history, selected, approved or batch:<id> as the scope."),
                      fields={"scope": N_("Unknown scope.")})
    if scope == "history":
        query = (select(ImageRow).join(HistoryEntry, HistoryEntry.image_id == ImageRow.id)
                 .where(HistoryEntry.project_id == project.id)
                 .order_by(HistoryEntry.created_at.desc(), HistoryEntry.id.desc()))
    else:
        wanted = ImageRow.selected.is_(True) if scope == "selected" else ImageRow.review_state == "approved"
        query = (select(ImageRow).join(Generation, ImageRow.generation_id == Generation.id)
                 .where(Generation.project_id == project.id, wanted)
                 .order_by(Generation.created_at, Generation.id, ImageRow.index))
    return list(db.session.scalars(query.options(*_WITH_GENERATION)))


def batch_images(project: Project, batch_id: str) -> list[ImageRow]:
    """Every image of one batch of the project, in its contact sheet's order (source, character,
    candidate); a batch of another project is not found."""
    if db.session.scalar(select(Batch.id).where(Batch.id == batch_id, Batch.project_id == project.id)) is None:
        raise NotFound(N_("This batch does not exist."))
    return list(db.session.scalars(
        select(ImageRow).join(Generation, ImageRow.generation_id == Generation.id)
        .where(Generation.batch_id == batch_id)
        .order_by(Generation.source_index, Generation.character_index, ImageRow.index).options(*_WITH_GENERATION)))


def _export(user_id: str, images: list[ImageRow], project: Project | None, role: str | None, scope: str,
            fmt: str, size: str) -> Export | Preparing:
    if not images:
        raise Invalid(EMPTY.get(scope, EMPTY_SCOPE), fields={"scope": N_("Nothing to export.")})
    sources = _sources(user_id, images, size)
    if isinstance(sources, Preparing):
        return sources
    return Export(project, role, scope, fmt, _plan(images, sources, fmt))


def _sources(user_id: str, images: list[ImageRow], size: str) -> dict[str, str] | Preparing:
    """The stored PNG of each image: the generated one, or for 2K its upscale (the same file the 2K
    download sends). Missing upscales are started at batch priority; a failed one is queued again and
    reported once (Unavailable), as the 2K download does."""
    if size == "1k":
        return {image.id: image.path for image in images}
    found = {image.id: image_jobs.result_path(image, JOB_UPSCALE) for image in images}
    missing = [image for image in images if found[image.id] is None]
    if not missing:
        return found
    jobs = [image_jobs.get_job(image.id, JOB_UPSCALE) for image in missing]
    failures = [job.error_message for job in jobs if job is not None and job.status == "failed"]
    for image in missing:
        image_jobs.request(user_id, image.id, JOB_UPSCALE, PRIORITY_BATCH)
    if failures:
        raise Unavailable(failures[0])
    return Preparing(ready=len(images) - len(missing), total=len(images))


def _plan(images: list[ImageRow], sources: dict[str, str], fmt: str) -> list[ExportFile]:
    names = _character_names([image.generation for image in images])
    ext, taken, files = DOWNLOAD_FORMATS[fmt][0], set(), []
    for image in images:
        characters = names.get(image.generation.character_id, [])
        name = unique_name(file_stem(image, characters), ext, taken)
        files.append(ExportFile(name, sources[image.id], _record(image, name, characters),
                                _text(image, characters)))
    return files


def _character_names(generations: list[Generation]) -> dict[str | None, list[str]]:
    """The names of the generations' characters by character id, in one query (a deleted character's
    generations keep working and export without a name)."""
    ids = {generation.character_id for generation in generations if generation.character_id}
    if not ids:
        return {}
    return {row.id: [row.name] for row in db.session.scalars(select(Character).where(Character.id.in_(ids)))}


def product_label(generation: Generation) -> str:
    """What a file name calls the product: the generation's label (its mode, or `edit`), numbered by
    the batch's source image for a batch's cells, so each product's files sort together."""
    if generation.is_edit:
        return "edit"
    if generation.batch_id is not None and generation.source_index is not None:
        return f"{generation.mode}-{generation.source_index + 1}"
    return generation.mode


def file_stem(image: ImageRow, characters: list[str]) -> str:
    """The name template: project_product_character_candidate_date, each part slugified."""
    generation = image.generation
    parts = [slug(generation.project.name, "project"), slug(product_label(generation), "image", 30),
             *(slug(name, "character", 30) for name in characters[:1]),
             f"c{image.index + 1}", f"{image.created_at:%Y-%m-%d}"]
    return "_".join(parts)


def unique_name(stem: str, ext: str, taken: set[str]) -> str:
    """`stem.ext`, or `stem-2.ext`, `stem-3.ext`... if the zip already has it (compared without case, as
    Windows and macOS unpack them); the name is added to `taken`."""
    name, number = f"{stem}.{ext}", 1
    while name.casefold() in taken:
        number += 1
        name = f"{stem}-{number}.{ext}"
    taken.add(name.casefold())
    return name


def _record(image: ImageRow, name: str, characters: list[str]) -> dict[str, Any]:
    """A file's manifest row. cost_usd: the generation's cost shared equally by its candidates, so the
    rows of a whole generation add up to what it cost."""
    generation = image.generation
    return {
        "file": name, "image_id": image.id, "generation_id": generation.id,
        "batch_id": generation.batch_id,
        "mode": generation.mode, "characters": characters, "prompt": generation.prompt,
        "review_state": image.review_state, "created_at": iso_utc(image.created_at),
        "cost_usd": round(generation.cost_usd / max(len(generation.images), 1), 6),
    }


def _text(image: ImageRow, characters: list[str]) -> dict[str, str]:
    generation = image.generation
    model = current_app.config["GEMINI_MODEL"] if generation.engine == "gemini" else generation.engine
    return {"prompt": generation.prompt, "characters": "; ".join(characters), "model": model,
            "image_id": image.id, "generation_id": generation.id}


def iso_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def stream(export: Export, project_json: dict[str, Any] | None) -> Iterator[bytes]:
    """The zip, chunk by chunk: the two manifests, then each image read or encoded only when the stream
    reaches it. Stored without compression: PNG, JPEG and WEBP are compressed already. `project_json`
    is the project as GET /api/projects/:id shows it (None for a selection across projects)."""
    archive = ZipStream(compress_type=ZIP_STORED)
    archive.add(manifest_csv(export), "manifest.csv")
    archive.add(json.dumps(manifest(export, project_json), ensure_ascii=False, indent=2), "manifest.json")
    for file in export.files:
        archive.add(_contents(file, export.fmt), file.name)
    yield from archive


def manifest(export: Export, project_json: dict[str, Any] | None) -> dict[str, Any]:
    return {"project": project_json, "scope": export.scope, "created_at": iso_utc(export.created_at),
            "files": [file.record for file in export.files]}


def manifest_csv(export: Export) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_COLUMNS)
    for file in export.files:
        row = {**file.record, "characters": "; ".join(file.record["characters"])}
        writer.writerow(["" if row[column] is None else row[column] for column in MANIFEST_COLUMNS])
    return out.getvalue()


def _contents(file: ExportFile, fmt: str) -> Iterator[bytes]:
    """One image's bytes, read from disk as the stream reaches it: a PNG is the stored file with its
    text chunks inserted after the header (not re-encoded); a JPEG or WEBP the converted copy the
    downloads keep beside the source (made once, JPEG flattened on white)."""
    rel = file.source if fmt == "png" else converted_path(file.source, fmt, file.record["image_id"])
    with storage.resolve(rel).open("rb") as stored:
        if fmt == "png":
            head = stored.read(PNG_HEAD_BYTES)
            if not is_png_head(head):
                raise Unavailable(N_("A stored image is damaged, so the export stopped. Please tell your administrator."))
            yield head + png_text_chunks(file.text)
        while chunk := stored.read(CHUNK_BYTES):
            yield chunk
