"""SQLAlchemy 2 typed models (DESIGN.md section 3). Ids are random hex strings: unguessable, and the
same type in URLs, paths and the JSON API."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (DDL, JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, event, false)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .extensions import db

GENERATION_STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
FINISHED_STATUSES = ("succeeded", "failed", "canceled")
JOB_GENERATE, JOB_EDIT = "generate-mockup", "edit-image"
JOB_UPSCALE, JOB_CUTOUT = "upscale-image", "remove-background"
# The steps of a running job, in order: calling the engine, cutting the product out, encoding and storing.
STEP_MODEL, STEP_CUTOUT, STEP_SAVING = "model", "cutout", "saving"
JOB_STEPS = (STEP_MODEL, STEP_CUTOUT, STEP_SAVING)
# Shared projects (shared/API.md, "Shared projects"): the roles a member may have besides the owner.
MEMBER_ROLES = ("editor", "reviewer", "viewer")
REVIEW_STATES = ("none", "in_review", "approved", "changes_requested")
# Character sheets (shared/API.md, "Character sheets"): what each reference image shows, and how many.
CHARACTER_VIEWS = ("front", "side", "back", "expression", "other")
CHARACTER_IMAGES_MAX = 5
# Generations (shared/API.md, "Generations: sizes, candidates, checks").
IMAGE_SIZES = ("1K", "2K")
CANDIDATES_MIN, CANDIDATES_MAX, CANDIDATES_DEFAULT = 1, 4, 2


def stored_bytes_column() -> Mapped[int]:
    """The bytes of the files a row refers to, kept on the row as they are written
    (services/storage_usage.py), so usage and the storage quota are sums, never walks of DATA_DIR."""
    return mapped_column(BigInteger, default=0, server_default="0")


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):
    """Stores UTC and always hands back an aware datetime, on SQLite (which drops tzinfo) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class User(db.Model):
    __tablename__ = "users"
    # The index of each list's order (and filter), here and below: a page of a list is a walk along its
    # index from the cursor's key (services/paging.py), checked with EXPLAIN in tests/test_explain.py.
    __table_args__ = (Index("ix_users_created", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(60))
    locale: Mapped[Optional[str]] = mapped_column(String(10))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # A disabled account cannot sign in, and every sign-in it had stops working (services/accounts.py).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What the user's generations may cost in a calendar month (UTC); None is no limit (services/budgets.py).
    monthly_budget_usd: Mapped[Optional[float]] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    projects: Mapped[list["Project"]] = relationship(back_populates="owner", cascade="all, delete-orphan")


class LoginSession(db.Model):
    """One browser sign-in. The cookie carries only this row's id, so logging out (or changing the
    password) ends that sign-in for real: a replayed old cookie finds a revoked row."""

    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_owner_updated", "owner_id", "updated_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(back_populates="projects")
    characters: Mapped[list["Character"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Character.created_at"
    )
    generations: Mapped[list["Generation"]] = relationship(back_populates="project", cascade="all, delete-orphan")
    history: Mapped[list["HistoryEntry"]] = relationship(back_populates="project", cascade="all, delete-orphan")
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Membership.added_at"
    )


class Membership(db.Model):
    """A colleague's place in someone else's project, with the role that says what they may do there."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="uq_memberships_project_user"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="memberships")
    # The ORM deletes them with the user: SQLite does not enforce ON DELETE CASCADE unless asked to.
    user: Mapped[User] = relationship(backref=backref("memberships", cascade="all, delete-orphan"))


class Character(db.Model):
    __tablename__ = "characters"
    __table_args__ = (Index("ix_characters_project_created", "project_id", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # Sent to the image model with every generation that uses the character (engines/prompts.py).
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="characters")
    # The character sheet: 1 to CHARACTER_IMAGES_MAX reference images; the first is the character's
    # picture in lists (`image_url`), the one the local engine uses, and the one a cut-out is made of.
    images: Mapped[list["CharacterImage"]] = relationship(
        back_populates="character", cascade="all, delete-orphan", order_by="CharacterImage.position"
    )

    @property
    def first_image(self) -> "CharacterImage":
        return self.images[0]


class CharacterImage(db.Model):
    """One reference image of a character's sheet, with the view it shows."""

    __tablename__ = "character_images"
    __table_args__ = (UniqueConstraint("character_id", "position", name="uq_character_images_position"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    character_id: Mapped[str] = mapped_column(ForeignKey("characters.id", ondelete="CASCADE"), index=True)
    # The order of the sheet (and of the images sent to the model); gaps are left where images went.
    position: Mapped[int] = mapped_column(Integer)
    view: Mapped[str] = mapped_column(String(20), default="front")
    image_path: Mapped[str] = mapped_column(String(255))
    thumbnail_path: Mapped[str] = mapped_column(String(255))
    # The background removed (services/characters.py): a second file beside the upload, never a
    # replacement, and whether generations use it instead of the upload.
    cutout_path: Mapped[Optional[str]] = mapped_column(String(255))
    use_cutout: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_bytes: Mapped[int] = stored_bytes_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    character: Mapped[Character] = relationship(back_populates="images")

    @property
    def picture_path(self) -> str:
        """The picture generations use: the cut-out when chosen, else the original upload."""
        return self.cutout_path if self.use_cutout and self.cutout_path else self.image_path


class JobState:
    """The job columns (DESIGN.md section 4) shared by every job table: the row is the job's truth, and
    jobs/lifecycle.py claims, renews, finishes and reaps any of them the same way."""

    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    error_code: Mapped[Optional[str]] = mapped_column(String(30))
    error_message: Mapped[Optional[str]] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    # Running: the lease, after which the reaper takes the job back. Queued: NULL while the job is held in
    # the database for its turn; once the dispatcher handed it to the broker, when the reaper takes it back
    # in case the broker lost it (jobs/order.py).
    lease_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # What a running job is doing now (one of JOB_STEPS), recorded by its work as it goes, for the
    # progress a person sees; None while it waits or before its work has begun.
    step: Mapped[Optional[str]] = mapped_column(String(20))

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def queue_again(self) -> None:
        """Back to a fresh queued state with no attempts used (a retry, or a new request for a result),
        held in the database until the dispatcher hands it over in its turn (jobs/order.py)."""
        self.status, self.error_code, self.error_message, self.attempts = "queued", None, None, 0
        self.queued_at, self.lease_until, self.started_at, self.finished_at = utcnow(), None, None, None
        self.step = None


class Batch(db.Model):
    """One request for many generations (shared/API.md, "Batches"): every source x every character, or
    every source. Its status and finish are derived from its generations' rows (services/batches.py),
    never stored, so they cannot drift from what the job lifecycle writes."""

    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    # What every generation of the batch was asked with (prompt and flags), for the batch page.
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    # The grid's axes: how many sources, and the characters in the order chosen (ids).
    source_count: Mapped[int] = mapped_column(Integer)
    character_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    project: Mapped[Project] = relationship(backref=backref("batches", cascade="all, delete-orphan"))
    generations: Mapped[list["Generation"]] = relationship(
        back_populates="batch", order_by=lambda: [Generation.source_index, Generation.character_index])


class Generation(JobState, db.Model):
    __tablename__ = "generations"
    # A form's one-time token names the generation it made, so sending the same form again (Back and
    # submit, a double click) finds that generation instead of making another.
    __table_args__ = (
        UniqueConstraint("owner_id", "submission", name="uq_generations_owner_submission"),
        Index("ix_generations_project_created", "project_id", "created_at", "id"),  # a project's mockups
        Index("ix_generations_owner_created", "owner_id", "created_at", "id"),  # your queue, your month's usage
        Index("ix_generations_created", "created_at", "id"),  # everyone's queue and usage (admins)
        Index("ix_generations_waiting", "status", "priority", "queued_at"),  # queue positions
        Index("ix_generations_owner_started", "owner_id", "priority", "started_at"),  # whose turn (jobs/order.py)
        Index("ix_generations_recent_runs", "job_type", "engine", "status", "finished_at"),  # estimates.py
        # the gallery filtered to a character, in its order (migration 0014); deleting a character
        Index("ix_generations_character_created", "character_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    job_type: Mapped[str] = mapped_column(String(20), default=JOB_GENERATE)
    mode: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text, default="")
    preserve_structure: Mapped[bool] = mapped_column(Boolean, default=True)
    transparent_background: Mapped[bool] = mapped_column(Boolean, default=False)
    # Input files (relative to DATA_DIR, built by storage.py); the character is copied per run so that
    # deleting the character later does not break a queued job or the history.
    source_path: Mapped[str] = mapped_column(String(255))
    character_id: Mapped[Optional[str]] = mapped_column(ForeignKey("characters.id", ondelete="SET NULL"))
    character_path: Mapped[Optional[str]] = mapped_column(String(255))
    # Every view of the character sheet copied for this run, in the order they are sent:
    # [{"view", "path"}], the first being character_path (None on rows made before sheets existed).
    character_views: Mapped[Optional[list]] = mapped_column(JSON)
    character_description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # How many candidates (one model call each) and at which size the model draws them.
    candidates: Mapped[int] = mapped_column(Integer, default=CANDIDATES_DEFAULT, server_default="2")
    image_size: Mapped[str] = mapped_column(String(2), default="1K", server_default="1K")
    texture_path: Mapped[Optional[str]] = mapped_column(String(255))
    parent_image_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL", use_alter=True, name="fk_generations_parent_image_id")
    )
    edit_region: Mapped[Optional[dict]] = mapped_column(JSON)
    # A failure's words from the image model itself (its text when it answered without an image), shown
    # verbatim beside error_message, which is our own sentence.
    error_detail: Mapped[Optional[str]] = mapped_column(Text)
    submission: Mapped[Optional[str]] = mapped_column(String(32))
    # The batch it belongs to, if any, and its cell there: row (source) and column (character).
    batch_id: Mapped[Optional[str]] = mapped_column(ForeignKey("batches.id", ondelete="SET NULL", name="fk_generations_batch_id"), index=True)
    source_index: Mapped[Optional[int]] = mapped_column(Integer)
    character_index: Mapped[Optional[int]] = mapped_column(Integer)

    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    # Known before it runs (engines/pricing.py); counts against the budget until cost_usd replaces it.
    estimated_cost_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    stored_bytes: Mapped[int] = stored_bytes_column()  # its inputs (and their thumbnail)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="generations")
    images: Mapped[list["Image"]] = relationship(
        back_populates="generation", cascade="all, delete-orphan", order_by="Image.index",
        foreign_keys="Image.generation_id",
    )
    parent_image: Mapped[Optional["Image"]] = relationship(foreign_keys=[parent_image_id])
    batch: Mapped[Optional[Batch]] = relationship(back_populates="generations")

    @property
    def is_edit(self) -> bool:
        return self.job_type == JOB_EDIT

    def queue_again(self) -> None:
        super().queue_again()
        self.error_detail = None

    @property
    def views(self) -> list[dict]:
        """The character images this run sends, as [{"view", "path"}]: a row from before character sheets
        has only its one character picture, the front view."""
        if self.character_views:
            return self.character_views
        return [{"view": "front", "path": self.character_path}] if self.character_path else []


# A generation's character is one of its project's, so the two columns go together; PostgreSQL, told so,
# stops multiplying their shares, which made it expect a few rows of a character in its project where
# there are thousands and sort them all for the gallery's first page (migration 0014, tests/test_explain.py).
CHARACTER_FOLLOWS_PROJECT = "st_generations_project_character"
event.listen(Generation.__table__, "after_create", DDL(
    f"CREATE STATISTICS {CHARACTER_FOLLOWS_PROJECT} (dependencies) ON project_id, character_id FROM generations",
).execute_if(dialect="postgresql"))


class Image(db.Model):
    __tablename__ = "images"
    # A generation's images in candidate order: the unique (generation_id, index) is their index.
    __table_args__ = (UniqueConstraint("generation_id", "index", name="uq_images_generation_index"),
                      Index("ix_images_review_created", "review_state", "created_at", "id"))  # review filter
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(10), default="png")
    has_alpha: Mapped[bool] = mapped_column(Boolean, default=False)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    path: Mapped[str] = mapped_column(String(255))
    thumbnail_path: Mapped[str] = mapped_column(String(255))
    upscaled_path: Mapped[Optional[str]] = mapped_column(String(255))
    cutout_path: Mapped[Optional[str]] = mapped_column(String(255))
    # The structure check (imaging/structure.py): None where it does not apply (sketch to real).
    structure_score: Mapped[Optional[float]] = mapped_column(Float)
    structure_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_bytes: Mapped[int] = stored_bytes_column()  # the image, its thumbnail, 2K, cut-out, conversions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The review (shared/API.md, "Review and comments"): its state, and who set it when.
    review_state: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    reviewed_by_id: Mapped[Optional[str]] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", name="fk_images_reviewed_by_id"))
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    generation: Mapped[Generation] = relationship(back_populates="images", foreign_keys=[generation_id])
    reviewed_by: Mapped[Optional[User]] = relationship(foreign_keys=[reviewed_by_id])
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="image", cascade="all, delete-orphan", order_by="Comment.created_at"
    )


class Comment(db.Model):
    """A member's remark on an image, optionally pinned to a rectangle in the image's pixels."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_image_created", "image_id", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    region: Mapped[Optional[dict]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    image: Mapped[Image] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class ImageJob(JobState, db.Model):
    """Work on one stored image (a 2K upscale, a background cut-out); at most one job of each type per
    image, so asking twice joins the job that exists."""

    __tablename__ = "image_jobs"
    __table_args__ = (UniqueConstraint("image_id", "job_type", name="uq_image_jobs_image_type"),
                      Index("ix_image_jobs_owner_started", "owner_id", "priority", "started_at"),  # whose turn
                      Index("ix_image_jobs_recent_runs", "job_type", "status", "finished_at"))  # estimates.py
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    # looked up by owner along ix_image_jobs_owner_started
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    job_type: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    image: Mapped["Image"] = relationship(
        backref=backref("jobs", cascade="all, delete-orphan", passive_deletes=True)
    )


class DeletedImage(db.Model):
    """What is left of a deleted image: which generation it came from, so its old links can say where to
    go instead of a bare "not found". Goes with its generation."""

    __tablename__ = "deleted_images"
    image_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"), index=True)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    generation: Mapped[Generation] = relationship(
        backref=backref("deleted_images", cascade="all, delete-orphan", passive_deletes=True)
    )


class StagedUpload(db.Model):
    """An upload that passed intake on a form that was sent back with an error: kept for its owner for
    an hour (services/staging.py), so the form can be sent again without choosing the file again."""

    __tablename__ = "staged_uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(255))
    thumbnail_path: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class HistoryEntry(db.Model):
    __tablename__ = "history_entries"
    __table_args__ = (Index("ix_history_entries_project_created", "project_id", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="history")
    # Deleting an image deletes its entry through the ORM: SQLite does not enforce ON DELETE CASCADE.
    image: Mapped[Image] = relationship(backref=backref("history_entry", cascade="all, delete-orphan", uselist=False))


class RefreshToken(db.Model):
    """One API sign-in (shared/API.md). The client holds a random secret; only its SHA-256 is kept, so a
    copy of the database hands out no sign-ins. Access tokens name this row (JWT claim `sid`), so revoking
    it (logout, password change) ends the refresh token and every access token made from it at once."""

    __tablename__ = "refresh_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    # The ORM deletes them with the user: SQLite does not enforce ON DELETE CASCADE unless asked to.
    user: Mapped[User] = relationship(backref=backref("refresh_tokens", cascade="all, delete-orphan"))


class Invitation(db.Model):
    """A one-use link that lets one person register while REGISTRATION=invite. Only the SHA-256 of its
    code is kept, so a copy of the database lets nobody in."""

    __tablename__ = "invitations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[Optional[str]] = mapped_column(String(254))  # when set, only this address may use it
    created_by_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    used_by_id: Mapped[Optional[str]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PasswordReset(db.Model):
    """A one-use link an admin issues so that a user can set a new password; hashed like invitations."""

    __tablename__ = "password_resets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(backref=backref("password_resets", cascade="all, delete-orphan"))
