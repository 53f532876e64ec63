"""The HTML forms (Flask-WTF, so every one carries a CSRF token). Field names are the services' argument
names, so a ServiceError's `fields` land under the right inputs. Forms check only what they can say
better next to a field; the services stay the authority on every rule."""
from __future__ import annotations

from typing import Iterable

from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField, DecimalField, EmailField, HiddenField, IntegerField, MultipleFileField, PasswordField, RadioField,
    SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import HiddenInput

from .i18n import LANGUAGES
from .labels import MODES, REVIEW_STATES, VIEWS
from .models import CANDIDATES_DEFAULT, CANDIDATES_MAX, CANDIDATES_MIN, CHARACTER_VIEWS, IMAGE_SIZES, Character
from .services import accounts, submissions
from .services.characters import DESCRIPTION_MAX as CHARACTER_DESCRIPTION_MAX
from .services.generations import PROMPT_MAX
from .services.history import NOTE_MAX
from .services.review import BODY_MAX as COMMENT_MAX

NAME_MAX = 100
DESCRIPTION_MAX = 2000


class AppForm(FlaskForm):
    """A form that also remembers the HTTP status and headers its page should be answered with."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status = 200
        self.headers: dict[str, str] = {}


def valid_password(form: FlaskForm, field) -> None:
    """The accounts service's password rule (8-64 characters, at most 72 bytes for bcrypt)."""
    problem = accounts.password_problem(field.data or "")
    if problem:
        raise ValidationError(gettext(problem))


def _required() -> InputRequired:
    return InputRequired(message=_l("This field is required."))


def _name_field(label) -> StringField:
    return StringField(label, validators=[
        _required(), Length(max=NAME_MAX, message=_l("Use at most %(max)d characters.", max=NAME_MAX)),
    ])


def _image_field(label, *, required: bool) -> FileField:
    validators = [FileRequired(message=_l("Choose an image file."))] if required else [Optional()]
    return FileField(label, validators=validators, render_kw={"accept": "image/png,image/jpeg,image/webp"})


# --- accounts ---------------------------------------------------------------------------------------------

class LoginForm(AppForm):
    email = EmailField(_l("Email"), validators=[_required()], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[_required()],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class RegisterForm(AppForm):
    email = EmailField(_l("Email"), validators=[
        _required(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Enter a valid email address.")),
    ], render_kw={"autocomplete": "email"})
    name = _name_field(_l("Your name"))
    password = PasswordField(_l("Password"), validators=[_required(), valid_password],
                             description=_l("8 to 64 characters."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"), validators=[
        _required(), EqualTo("password", message=_l("The two passwords are not the same.")),
    ], render_kw={"autocomplete": "new-password"})
    invite_code = HiddenField()


class LanguageForm(AppForm):
    locale = SelectField(_l("Language"), choices=[
        SelectChoice("", _l("Same as the browser")), *(SelectChoice(code, name) for code, name in LANGUAGES.items()),
    ])


class PasswordForm(AppForm):
    current_password = PasswordField(_l("Current password"), validators=[_required()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[_required(), valid_password],
                                 description=_l("8 to 64 characters."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        _required(), EqualTo("new_password", message=_l("The two passwords are not the same.")),
    ], render_kw={"autocomplete": "new-password"})


class ResetPasswordForm(AppForm):
    """A new password set with an admin's one-use link."""

    new_password = PasswordField(_l("New password"), validators=[_required(), valid_password],
                                 description=_l("8 to 64 characters."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        _required(), EqualTo("new_password", message=_l("The two passwords are not the same.")),
    ], render_kw={"autocomplete": "new-password"})


class DeleteAccountForm(AppForm):
    password = PasswordField(_l("Your password"), validators=[_required()],
                             render_kw={"autocomplete": "current-password"})


# --- administration ---------------------------------------------------------------------------------------

class CreateUserForm(AppForm):
    email = EmailField(_l("Email"), validators=[_required(), Length(max=254)])
    name = _name_field(_l("Name"))
    password = PasswordField(_l("Password"), validators=[_required(), valid_password],
                             description=_l("8 to 64 characters."), render_kw={"autocomplete": "new-password"})
    is_admin = BooleanField(_l("Administrator"))


class InviteForm(AppForm):
    email = EmailField(_l("Email (optional: only this address may use the link)"), validators=[
        Optional(), Length(max=254),
    ])


class AccountFlagsForm(AppForm):
    """Make or unmake an admin, disable or enable: one of the two hidden fields says which, as true/false."""

    is_admin = HiddenField()
    disabled = HiddenField()

    @staticmethod
    def _flag(field) -> bool | None:
        return {"true": True, "false": False}.get((field.data or "").lower())

    def flags(self) -> dict[str, bool | None]:
        return {"is_admin": self._flag(self.is_admin), "disabled": self._flag(self.disabled)}


class BudgetForm(AppForm):
    monthly_budget_usd = DecimalField(_l("Monthly budget (USD)"), places=2, validators=[Optional()],
                                      description=_l("Empty for no limit."))

    def budget(self) -> float | None:
        return None if self.monthly_budget_usd.data is None else float(self.monthly_budget_usd.data)


# --- projects and characters ------------------------------------------------------------------------------

class ProjectForm(AppForm):
    name = _name_field(_l("Project name"))
    description = TextAreaField(_l("Description"), validators=[
        Length(max=DESCRIPTION_MAX, message=_l("Use at most %(max)d characters.", max=DESCRIPTION_MAX)),
    ])


def _view_field(label) -> SelectField:
    return SelectField(label, default=CHARACTER_VIEWS[0],
                       choices=[SelectChoice(view, _l(VIEWS[view])) for view in CHARACTER_VIEWS])


def _character_description_field() -> TextAreaField:
    return TextAreaField(_l("Description (optional)"), validators=[Length(
        max=CHARACTER_DESCRIPTION_MAX, message=_l("Use at most %(max)d characters.", max=CHARACTER_DESCRIPTION_MAX))],
        description=_l("Sent to the image model with every mockup of this character: what it looks like, "
                       "what must never change."), render_kw={"rows": 3})


class CharacterForm(AppForm):
    name = _name_field(_l("Character name"))
    image = _image_field(_l("Character image"), required=True)
    view = _view_field(_l("The picture shows"))
    description = _character_description_field()


class CharacterImageForm(AppForm):
    """Another view for a character sheet."""

    image = _image_field(_l("Picture"), required=True)
    view = _view_field(_l("View"))


class CharacterEditForm(AppForm):
    name = _name_field(_l("Character name"))
    description = _character_description_field()


# --- generating ---------------------------------------------------------------------------------------------

_MODE_CHOICES = [SelectChoice(mode, _l(label)) for mode, label in MODES.items()]


class GenerateForm(AppForm):
    mode = RadioField(_l("What should happen?"), default="ip-change", validators=[_required()], choices=_MODE_CHOICES)
    source_image = _image_field(_l("Product photo or sketch"), required=True)
    character_id = SelectField(_l("Registered character"), choices=[])
    character_image = _image_field(_l("…or upload a character for this run"), required=False)
    texture_image = _image_field(_l("Reference texture (optional)"), required=False)
    prompt = TextAreaField(_l("Instructions (optional)"), validators=[
        Length(max=PROMPT_MAX, message=_l("Use at most %(max)d characters.", max=PROMPT_MAX)),
    ], render_kw={"rows": 3})
    preserve_structure = BooleanField(_l("Preserve structure"), default=True)
    transparent_background = BooleanField(_l("Transparent background"), default=False)
    candidates = SelectField(_l("Candidates"), coerce=int, default=CANDIDATES_DEFAULT, choices=[
        SelectChoice(count, str(count)) for count in range(CANDIDATES_MIN, CANDIDATES_MAX + 1)])
    image_size = RadioField(_l("Size"), default=IMAGE_SIZES[0], choices=[
        SelectChoice("1K", _l("1K (1024 px)")), SelectChoice("2K", _l("2K (2048 px, same price)"))])
    # A fresh one-time token each time the form is rendered; kept when it comes back with an error.
    submission = HiddenField(default=submissions.new_token)

    def offer_characters(self, characters: Iterable[Character]) -> "GenerateForm":
        """The project's characters become the choices; any other id fails validation."""
        self.character_id.choices = [
            SelectChoice("", _l("None (upload one below)")), *(SelectChoice(c.id, c.name) for c in characters),
        ]
        return self


class BatchForm(AppForm):
    """Many mockups in one request (services/batches.py): several sources, several characters."""

    mode = RadioField(_l("What should happen?"), default="ip-change", validators=[_required()], choices=_MODE_CHOICES)
    source_image = MultipleFileField(_l("Product photos or sketches"), render_kw={
        "accept": "image/png,image/jpeg,image/webp", "multiple": True})
    character_id = SelectMultipleField(_l("Characters"), choices=[], validate_choice=True)
    prompt = TextAreaField(_l("Instructions (optional)"), validators=[
        Length(max=PROMPT_MAX, message=_l("Use at most %(max)d characters.", max=PROMPT_MAX)),
    ], render_kw={"rows": 3})
    preserve_structure = BooleanField(_l("Preserve structure"), default=True)
    transparent_background = BooleanField(_l("Transparent background"), default=False)
    candidates = SelectField(_l("Candidates per mockup"), coerce=int, default=CANDIDATES_DEFAULT, choices=[
        SelectChoice(count, str(count)) for count in range(CANDIDATES_MIN, CANDIDATES_MAX + 1)])
    image_size = SelectField(_l("Image size"), default=IMAGE_SIZES[0], choices=[
        SelectChoice(size, size) for size in IMAGE_SIZES])

    def offer_characters(self, characters: Iterable[Character]) -> "BatchForm":
        """The project's characters become the choices; any other id fails validation."""
        self.character_id.choices = [SelectChoice(character.id, character.name) for character in characters]
        return self


class NoteForm(AppForm):
    """Save an image to the history, with an optional note."""

    note = StringField(_l("Note (optional)"), validators=[
        Length(max=NOTE_MAX, message=_l("Use at most %(max)d characters.", max=NOTE_MAX)),
    ])


class EditForm(AppForm):
    """A region edit: the instruction, and the mask the page's canvas paints (a PNG, white = edit)."""

    prompt = TextAreaField(_l("What should change in the marked part?"), validators=[
        _required(), Length(max=PROMPT_MAX, message=_l("Use at most %(max)d characters.", max=PROMPT_MAX)),
    ], render_kw={"rows": 3, "placeholder": _l("For example: make the ears rounder, or remove the reflection")})
    mask = FileField(_l("Marked part"), validators=[FileRequired(message=_l("Paint the part to change first."))])
    submission = HiddenField(default=submissions.new_token)  # one form, one edit (as GenerateForm)


# --- shared projects and review -------------------------------------------------------------------------

def _role_field() -> SelectField:
    return SelectField(_l("Role"), default="viewer", choices=[
        SelectChoice("editor", _l("Editor: works on the project")),
        SelectChoice("reviewer", _l("Reviewer: comments and approves")),
        SelectChoice("viewer", _l("Viewer: looks and comments")),
    ])


class MemberForm(AppForm):
    """The owner adds a colleague (who has an account) by e-mail, with a role."""

    email = EmailField(_l("Colleague's email"), validators=[_required(), Length(max=254)])
    role = _role_field()


class RoleForm(AppForm):
    role = _role_field()


class ReviewForm(AppForm):
    state = SelectField(_l("Review"), choices=[SelectChoice(state, _l(REVIEW_STATES[state]))
                                               for state in ("in_review", "approved", "changes_requested", "none")])
    comment = TextAreaField(_l("Comment (optional)"), validators=[
        Length(max=COMMENT_MAX, message=_l("Use at most %(max)d characters.", max=COMMENT_MAX)),
    ], render_kw={"rows": 2})


def _pixel_field() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[
        Optional(), NumberRange(min=0, message=_l("Draw the box again inside the image.")),
    ])


class CommentForm(AppForm):
    """A comment; the four region fields are filled by static/review.js when a box is drawn on the image."""

    body = TextAreaField(_l("Comment"), validators=[
        _required(), Length(max=COMMENT_MAX, message=_l("Use at most %(max)d characters.", max=COMMENT_MAX)),
    ], render_kw={"rows": 3})
    region_x = _pixel_field()
    region_y = _pixel_field()
    region_width = _pixel_field()
    region_height = _pixel_field()

    def region(self) -> dict | None:
        """The drawn box in image pixels, or None when none was drawn; the service checks it lies
        inside the image and that all four numbers are there."""
        values = (self.region_x.data, self.region_y.data, self.region_width.data, self.region_height.data)
        if all(value is None for value in values):
            return None
        return dict(zip(("x", "y", "width", "height"), values))


class SelectImageForm(AppForm):
    image_id = HiddenField()


class ButtonForm(AppForm):
    """A POST that is only a button (delete, cancel, retry): nothing but the CSRF token."""
