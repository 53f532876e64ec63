"""Korean (and any later language) for the sentences that services and image intake send back.

Services speak plain English because the JSON API and the CLI use the same words. The HTML side
translates a message when it shows it; the messages are listed here so that `pybabel extract` puts them
in the catalog (N_ marks a string for extraction without translating it at import time). A message
missing here is shown in English rather than breaking anything; tests/test_views_i18n.py checks that the
literal messages of services and intake are all listed.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l


def N_(message: str) -> str:
    return message


SERVICE_MESSAGES = (
    # accounts
    N_("Please correct the highlighted fields."),
    N_("An account with this email already exists."),
    N_("Already registered."),
    N_("This account does not exist."),
    N_("The current password is not correct."),
    N_("The password is not correct."),
    N_("Not correct."),
    N_("Enter a valid email address."),
    N_("Enter a name of 1 to 100 characters."),
    N_("Use at least 8 characters."),
    N_("Use at most 64 characters."),
    N_("This password is longer than 72 bytes once encoded; use fewer non-Latin characters."),
    # projects, characters, generations, images, history
    N_("This project does not exist."),
    N_("Enter a project name of 1 to 100 characters."),
    N_("Keep the description under 2000 characters."),
    N_("This character does not exist."),
    N_("Give the character a name of 1 to 100 characters."),
    N_("Enter a name."),
    N_("This generation does not exist."),
    N_("The queue is full right now. Please try again in a minute."),
    N_("Choose ip-change or sketch-to-real."),
    N_("Keep the prompt under 2000 characters."),
    N_("Choose a registered character or upload one for this run."),
    N_("Only a failed or canceled generation can be tried again."),
    N_("Only a generation that is still waiting can be canceled."),
    N_("This image does not exist."),
    N_("This image does not belong to this generation."),
    N_("Not in this generation."),
    N_("Choose png, jpeg or webp."),
    N_("This character already has a transparent background."),
    N_("Too many failed sign-ins. Please wait 15 minutes and try again."),
    N_("The server's disk is full, so nothing was saved. Please tell your administrator, then try again."),
    N_("The image is being prepared. Please try again in a moment."),
    N_("Something went wrong while processing the image."),
    N_("The upscale model could not run."),
    N_("The 2K upscale program was not found; check REALESRGAN_PATH."),
    N_("The 2K upscale program could not be started."),
    N_("The 2K upscale program did not produce an image."),
    N_("The 2K upscale program returned an image of the wrong size."),
    N_("This history entry does not exist."),
    # region edits
    N_("Mark the part to edit with either a region or a mask."),
    N_("Give a region or a mask."),
    N_("Say what to change in the marked part."),
    N_("Enter an instruction."),
    N_("The region must be an object with x, y, width and height."),
    N_("Give x, y, width and height."),
    N_("Not a whole number."),
    N_("The region must have a positive width and height."),
    N_("Empty region."),
    N_("Outside the image."),
    N_("The mask is larger than 10 MB."),
    N_("Too large."),
    N_("The mask must have the same width and height as the image."),
    N_("Wrong size."),
    N_("The mask must be a PNG image."),
    N_("Not a PNG image."),
    N_("The mask has no white area: paint the part to edit in white."),
    N_("Nothing marked."),
    N_("Keep the note under 1000 characters."),
    N_("Too long."),
    # uploads and image intake
    N_("Choose an image file to upload."),
    N_("Choose an image file."),
    N_("This file is larger than 10 MB. Please upload a smaller image."),
    N_("Only PNG, JPEG and WEBP images are accepted."),
    N_("This image is damaged or incomplete. Please export it again and upload the new file."),
    N_("Animated images are not supported. Please upload a single still image."),
    N_("Choose PNG, JPEG or WEBP as the download format."),
    N_("Not found."),
)

# A failed generation is explained by its error code, so the explanation is in the user's language
# whatever words the engine used (the engine's own sentence is shown beside it as a detail).
ENGINE_ERRORS = {
    "API_RATE_LIMIT": _l("The image service is busy right now. Please try again in a minute."),
    "INVALID_IMAGE": _l("The image service could not use one of the uploaded images. "
                        "Try a clearer photo or a different file."),
    "CONTENT_POLICY": _l("The image service refused this request under its content policy. "
                         "Try a different image or prompt."),
    "TIMEOUT": _l("The image service took too long to answer. Please try again."),
    "UNKNOWN": _l("Something went wrong while making the mockup. Please try again."),
}


def translate(message: str) -> str:
    """A service message in the user's language (unchanged when the catalog does not know it)."""
    return gettext(message) if message else message


def engine_error(code: str | None) -> str:
    return str(ENGINE_ERRORS.get(code or "UNKNOWN", ENGINE_ERRORS["UNKNOWN"]))
