"""The instructions sent to the image model, built from the request's options.

Pure functions with no SDK in sight, so they are unit-tested on their own. Images follow the text in a
fixed order (source, the character's images for ip-change, texture; for an edit, the original then its marked copy),
and the prompt names them by that position because the model sees only one list of parts.
"""
from __future__ import annotations

from ..imaging.backdrop import MID_GREY, Backdrop
from .base import Mode

IP_CHANGE = (
    "Image {source} is a product photo showing a character printed, moulded or sewn onto a product. "
    "Image {character} is the licensed IP character to use instead. "
    "Replace the character shown on the product with the character from image {character}, applied "
    "the same way the original one was (same technique, placement and scale). "
    "Keep the product exactly as it is: the same shape, materials, lighting, camera angle and "
    "perspective. "
    "Keep the new character's proportions, face and colours exactly as in image {character}."
)
# A character sheet: the character's images follow the source, each named with the view it shows.
IP_CHANGE_SHEET = (
    "Image {source} is a product photo showing a character printed, moulded or sewn onto a product. "
    "Images {character} to {character_last} are reference pictures of the licensed IP character to use "
    "instead, all of the same character: {views}. "
    "Replace the character shown on the product with this character, applied the same way the original "
    "one was (same technique, placement and scale), drawing it from whichever view fits the product best. "
    "Keep the product exactly as it is: the same shape, materials, lighting, camera angle and "
    "perspective. "
    "Keep the new character's proportions, face and colours exactly as in its reference pictures."
)
VIEW_NAMES = {"front": "the front view", "side": "a side view", "back": "the back view",
              "expression": "a facial expression", "other": "another view"}
VIEW = "image {position} shows {name}"
DESCRIPTION = "About the character: {description}"
SKETCH_TO_REAL = (
    "Image {source} is a 2D design sketch of a product. "
    "Turn it into a photorealistic product photo, as if the finished product had been manufactured "
    "and photographed in a studio. "
    "Keep every design detail of the sketch and its proportions; do not add, remove or move any "
    "element."
)
PRESERVE_STRUCTURE = (
    "Preserve the structure strictly: the outline, silhouette, parts and their positions must match "
    "image {source}; only what the instructions ask for may change."
)
TEXTURE = (
    "Image {texture} is a reference texture: use its material, pattern and finish for the product's "
    "surface."
)
# The colour is chosen to contrast with the product (mockup/imaging/backdrop.py): a white product on
# white cannot be cut out. "Flat, the same everywhere" keeps the model from adding a studio gradient.
TRANSPARENT_BACKGROUND = (
    "Show the product alone, centred and fully visible, on a plain uniform {backdrop} studio background "
    "(one flat colour, {hex}, the same everywhere: no gradient, no vignette, no floor line), with no other "
    "objects, no checkerboard pattern, no reflection and no cast shadow; the background will be cut out "
    "afterwards."
)
EDIT = (
    "Image 1 is a finished product mockup. Image 2 is the same picture with one region marked: it is "
    "tinted {colour} and outlined in solid {colour}. "
    "Change only what is inside the marked region, following the designer's instruction below, and blend "
    "the change naturally into its surroundings. "
    "Keep everything outside the marked region exactly as in image 1: the same framing, composition, "
    "product, colours, lighting and detail."
)
EDIT_INSTRUCTION = "The designer's instruction for the marked region: {instruction}"
EDIT_CLOSING = (
    "Return the whole of image 1 with this change applied, at the same framing, as one photorealistic "
    "image without any {colour} tint or outline."
)
MODE_INSTRUCTIONS: dict[str, str] = {"ip-change": IP_CHANGE, "sketch-to-real": SKETCH_TO_REAL}
USER_PROMPT = "Additional instructions from the designer: {prompt}"
CLOSING = "Return one photorealistic image."


def build_prompt(
    mode: Mode,
    *,
    user_prompt: str = "",
    preserve_structure: bool = True,
    has_texture: bool = False,
    transparent_background: bool = False,
    backdrop: Backdrop = MID_GREY,
    character_views: tuple[str, ...] = ("front",),
    character_description: str = "",
) -> str:
    """The full instruction text for one generation call, one sentence group per line. `backdrop` is
    the plain background asked for when the result will be cut out (`transparent_background`);
    `character_views` are the views of the character images an IP change sends, in order."""
    if mode not in MODE_INSTRUCTIONS:
        raise ValueError(f"unknown generation mode {mode!r}")
    numbers = _image_numbers(mode, has_texture, len(character_views))
    lines = [_instruction(mode, numbers, character_views)]
    if mode == "ip-change" and character_description.strip():
        lines.append(DESCRIPTION.format(description=character_description.strip()))
    if preserve_structure:
        lines.append(PRESERVE_STRUCTURE.format(**numbers))
    if has_texture:
        lines.append(TEXTURE.format(**numbers))
    if transparent_background:
        lines.append(TRANSPARENT_BACKGROUND.format(backdrop=backdrop.name, hex=backdrop.hex))
    if user_prompt.strip():
        lines.append(USER_PROMPT.format(prompt=user_prompt.strip()))
    lines.append(CLOSING)
    return "\n".join(lines)


def build_edit_prompt(instruction: str, mark_colour: str = "magenta") -> str:
    """The instruction text for a region edit; the images follow it as the original, then its marked
    copy (mockup.imaging.regions.mark_region draws the mark in `mark_colour`)."""
    return "\n".join([
        EDIT.format(colour=mark_colour),
        EDIT_INSTRUCTION.format(instruction=instruction.strip()),
        EDIT_CLOSING.format(colour=mark_colour),
    ])


def _instruction(mode: Mode, numbers: dict[str, int], views: tuple[str, ...]) -> str:
    """The mode's instruction; an IP change with several character images names each by its position."""
    if mode != "ip-change" or len(views) < 2:
        return MODE_INSTRUCTIONS[mode].format(**numbers)
    named = [VIEW.format(position=numbers["character"] + offset, name=VIEW_NAMES.get(view, VIEW_NAMES["other"]))
             for offset, view in enumerate(views)]
    return IP_CHANGE_SHEET.format(**numbers, views="; ".join(named))


def _image_numbers(mode: Mode, has_texture: bool, character_images: int = 1) -> dict[str, int]:
    """1-based positions of the images after the text, matching the order the engine sends them: the
    source, the character's images (`character` is the first, `character_last` the last), the texture."""
    numbers = {"source": 1}
    following = 2
    if mode == "ip-change":
        numbers["character"], numbers["character_last"] = following, following + character_images - 1
        following += character_images
    if has_texture:
        numbers["texture"] = following
    return numbers
