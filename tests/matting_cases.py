"""Product shots with known masks, rendered procedurally for the cut-out tests and bench/matting_bench.py.

Each case is drawn large and shrunk (so silhouettes are anti-aliased like a photo's), shaded like a lit
object (Lambert falloff across a cylinder, a specular streak, ambient occlusion near the edge), set on a
studio backdrop with a vertical gradient, a vignette and a soft contact shadow that is NOT part of the
product, then given sensor noise (brighter pixels noisier, as on a real sensor) and a JPEG round trip.
The ground truth is the silhouette's coverage (0..1), so edge softness is known too.

Everything is seeded: the same name and size always give the same pixels.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4


@dataclass(frozen=True)
class Case:
    name: str
    image: Image.Image  # RGB, as a camera (or an image model) would hand it over
    alpha: np.ndarray  # float32 0..1, the product's true coverage
    holes: tuple[tuple[float, float], ...] = ()  # (x, y) fractions of points that must be see-through
    kind: str = "product"  # "character": enclosed areas belong to the subject
    shadow: np.ndarray | None = None  # where the contact shadow darkens the backdrop (not the product)
    enclosed: tuple[tuple[float, float], ...] = ()  # white areas enclosed by a drawing or a print: opaque


def _coverage(size: int, draw: Callable[[ImageDraw.ImageDraw, float], None]) -> np.ndarray:
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw(ImageDraw.Draw(big), size * SUPERSAMPLE)
    return np.asarray(big.resize((size, size), Image.Resampling.BOX), np.float32) / 255.0


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    return x / size, y / size


def _backdrop(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int], vignette: float) -> np.ndarray:
    """A seamless paper sweep: a vertical gradient with darker corners."""
    x, y = _grid(size)
    t = np.clip((y - 0.2) / 0.7, 0, 1)[..., None] ** 1.3
    colour = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    falloff = 1 - vignette * ((x - 0.5) ** 2 + (y - 0.45) ** 2) * 2
    return colour * falloff[..., None]


def _contact_shadow(size: int, box: tuple[float, float, float, float], strength: float) -> np.ndarray:
    """Multiplier (<= 1) of a soft shadow pooled under the product's base, wider than the product."""
    x0, y0, x1, y1 = (v * size for v in box)
    shadow = np.zeros((size, size), np.float32)
    cv2.ellipse(shadow, (int((x0 + x1) / 2), int(y1)), (int((x1 - x0) * 0.62), int(size * 0.035)),
                0, 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), size * 0.018)
    return 1 - strength * shadow


def _with_shadow(background: np.ndarray, box: tuple[float, float, float, float], strength: float,
                 alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The backdrop with a contact shadow cast on it, and where that shadow is visible (at least a third
    of its full darkening) outside the product: pixels a cut-out must leave transparent."""
    darkening = _contact_shadow(background.shape[0], box, strength)
    return background * darkening[..., None], (1 - darkening > strength / 3) & (alpha == 0)


def _studio_shot(name: str, seed: int, alpha: np.ndarray, product: np.ndarray, background: np.ndarray,
                 shadow_box: tuple[float, float, float, float], shadow: float, noise: float = 2.2,
                 **fields) -> Case:
    """The product over its backdrop, a contact shadow cast under it, through the camera."""
    background, shadow_mask = _with_shadow(background, shadow_box, shadow, alpha)
    return Case(name, _finish(_compose(background, product, alpha), seed, noise=noise), alpha, shadow=shadow_mask,
                **fields)


def _cylinder_shading(size: int, x0: float, x1: float, light: float = 0.35) -> np.ndarray:
    """Brightness across a vertical cylinder lit from the front left, with a specular streak."""
    x, _ = _grid(size)
    u = np.clip((x - x0) / (x1 - x0), 0, 1) * 2 - 1  # -1..1 across the body
    normal_x = u
    normal_z = np.sqrt(np.clip(1 - u**2, 0, 1))
    lx, lz = -light, np.sqrt(1 - light**2)
    lambert = np.clip(normal_x * lx + normal_z * lz, 0, 1)
    specular = np.exp(-((u + 0.42) / 0.07) ** 2) * 0.25
    return 0.55 + 0.42 * lambert + specular


def _finish(photo: np.ndarray, seed: int, noise: float = 2.2, quality: int = 88) -> Image.Image:
    """Sensor noise (shot noise grows with brightness) and a JPEG round trip."""
    rng = np.random.default_rng(seed)
    sigma = noise * (0.6 + 0.6 * photo / 255.0)
    noisy = photo + rng.normal(0.0, 1.0, photo.shape) * sigma
    image = Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _compose(background: np.ndarray, product: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return product * alpha[..., None] + background * (1 - alpha[..., None])


def _mug(draw: ImageDraw.ImageDraw, s: float, x0=0.26, x1=0.62, top=0.28, bottom=0.8) -> None:
    """Mug body and a ring handle on the right whose hole shows the backdrop."""
    draw.rounded_rectangle((x0 * s, top * s, x1 * s, bottom * s), radius=0.025 * s, fill=255)
    draw.ellipse(((x1 - 0.06) * s, 0.36 * s, (x1 + 0.17) * s, 0.68 * s), fill=255)
    draw.ellipse(((x1 + 0.005) * s, 0.425 * s, (x1 + 0.105) * s, 0.615 * s), fill=0)
    draw.rectangle(((x1 - 0.06) * s, 0.3 * s, (x1 - 0.005) * s, 0.74 * s), fill=255)


MUG_HOLE = ((0.62 + 0.055, 0.52),)


def _mug_shot(size: int, seed: int, name: str, body: tuple[int, int, int], top, bottom, vignette: float,
              shadow: float, print_: bool = False) -> Case:
    alpha = _coverage(size, _mug)
    shading = _cylinder_shading(size, 0.26, 0.62)
    x, y = _grid(size)
    handle = (x > 0.6)
    shading = np.where(handle, 0.72 + 0.18 * np.cos((y - 0.52) * 9), shading)
    # The rim and the base are in shadow; a rim line reads as the mug's opening.
    rim = np.clip(1 - np.abs(y - 0.292) / 0.012, 0, 1) * (~handle)
    shading = shading * (1 - 0.18 * rim) * (1 - 0.12 * np.clip((y - 0.74) / 0.06, 0, 1))
    product = np.array(body, np.float32) * shading[..., None]
    counters: tuple[tuple[float, float], ...] = ()
    if print_:
        artwork = np.zeros((size, size), np.uint8)
        cv2.circle(artwork, (int(0.42 * size), int(0.5 * size)), int(0.08 * size), 255, -1, cv2.LINE_AA)
        counters = _print_text(artwork, "MOOD", (0.31, 0.68))
        artwork = artwork.astype(np.float32) / 255.0
        palette = np.dstack([220 + 0 * x, 60 + 120 * x, 40 + 160 * y])
        product = product * (1 - artwork[..., None]) + palette * shading[..., None] * artwork[..., None]
    return _studio_shot(name, seed, alpha, product, _backdrop(size, top, bottom, vignette), (0.26, 0.3, 0.7, 0.8),
                        shadow, holes=MUG_HOLE, enclosed=counters)


def _print_text(artwork: np.ndarray, text: str, origin: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """Print `text` and return the centres of its O's: glaze the letter encloses, product not hole."""
    size = artwork.shape[0]
    scale, thickness = size / 480, max(2, size // 160)
    x0, y0 = int(origin[0] * size), int(origin[1] * size)
    cv2.putText(artwork, text, (x0, y0), cv2.FONT_HERSHEY_DUPLEX, scale, 255, thickness, cv2.LINE_AA)
    height = cv2.getTextSize("O", cv2.FONT_HERSHEY_DUPLEX, scale, thickness)[0][1]
    centres = []
    for index, letter in enumerate(text):
        if letter == "O":
            before = cv2.getTextSize(text[:index], cv2.FONT_HERSHEY_DUPLEX, scale, thickness)[0][0] if index else 0
            width = cv2.getTextSize("O", cv2.FONT_HERSHEY_DUPLEX, scale, thickness)[0][0]
            centres.append(((x0 + before + width / 2) / size, (y0 - height / 2) / size))
    return tuple(centres)


def white_mug_on_white(size: int) -> Case:
    return _mug_shot(size, 1, "white mug on white", (246, 246, 244), (252, 252, 252), (248, 248, 248),
                     0.02, 0.25)


def white_mug_on_grey_seamless(size: int) -> Case:
    return _mug_shot(size, 2, "white mug on light-grey seamless", (244, 244, 242), (236, 236, 238),
                     (196, 196, 200), 0.12, 0.45)


def printed_mug(size: int) -> Case:
    return _mug_shot(size, 3, "printed mug on white", (240, 240, 236), (250, 250, 250), (240, 240, 240),
                     0.05, 0.35, print_=True)


def mug_with_printed_character(size: int) -> Case:
    """A white mug with a character printed on it: the print's white eyes and belly are the mug's white
    surface seen inside the print's outline, so they are product, not holes."""
    case = white_mug_on_white(size)
    art = np.asarray(character_art(size).image, np.float32)
    side = int(0.3 * size)
    art = cv2.resize(art[int(0.08 * size):int(0.9 * size), int(0.2 * size):int(0.8 * size)], (side, side),
                     interpolation=cv2.INTER_AREA)
    x0, y0 = int(0.29 * size), int(0.37 * size)
    pixels = np.asarray(case.image, np.float32).copy()
    region = pixels[y0:y0 + side, x0:x0 + side]
    shading = region.mean(axis=2, keepdims=True) / 246.0  # the print takes the mug's light and shade
    region[:] = np.minimum(region, art * shading)  # ink darkens the glaze; white ink-free areas stay glaze
    eyes = tuple(((x0 + side * (px - 0.2) / 0.6) / size, (y0 + side * (py - 0.08) / 0.82) / size)
                 for px, py in ((0.41, 0.22), (0.59, 0.22), (0.5, 0.65)))
    return Case("white mug with a printed character", _finish(pixels, 15, noise=0.8, quality=92), case.alpha,
                case.holes, shadow=case.shadow, enclosed=eyes)


def cream_on_cream(size: int) -> Case:
    """A cream bottle on cream paper: the colour gap is a few Lab units."""
    def bottle(draw, s):
        draw.rounded_rectangle((0.36 * s, 0.34 * s, 0.64 * s, 0.84 * s), radius=0.05 * s, fill=255)
        draw.rounded_rectangle((0.44 * s, 0.2 * s, 0.56 * s, 0.36 * s), radius=0.015 * s, fill=255)
    alpha = _coverage(size, bottle)
    shading = _cylinder_shading(size, 0.36, 0.64)
    product = np.array((236, 222, 192), np.float32) * shading[..., None]
    background = _backdrop(size, (240, 230, 206), (226, 214, 188), 0.08)
    return _studio_shot("cream bottle on cream", 4, alpha, product, background, (0.36, 0.3, 0.64, 0.84), 0.35)


def dark_on_dark(size: int) -> Case:
    """A black tumbler on charcoal, lit from the left: separation comes from the rim light."""
    def tumbler(draw, s):
        draw.polygon([(0.34 * s, 0.22 * s), (0.66 * s, 0.22 * s), (0.61 * s, 0.84 * s), (0.39 * s, 0.84 * s)],
                     fill=255)
    alpha = _coverage(size, tumbler)
    shading = _cylinder_shading(size, 0.35, 0.65, light=0.6)
    edge = cv2.GaussianBlur((alpha > 0.5).astype(np.float32), (0, 0), size * 0.01)
    rim_light = np.clip(1 - np.abs(edge - 0.5) * 4, 0, 1) * 0.5
    product = np.array((38, 38, 42), np.float32) * shading[..., None] * (1 + rim_light[..., None])
    background = _backdrop(size, (58, 58, 62), (34, 34, 38), 0.3)
    return _studio_shot("black tumbler on charcoal", 5, alpha, product, background,
                        (0.36, 0.3, 0.64, 0.84), 0.4, noise=3.0)


def ring_keychain(size: int) -> Case:
    """A white ring keychain with a small tag: the ring's hole is the backdrop."""
    def ring(draw, s):
        draw.ellipse((0.28 * s, 0.24 * s, 0.72 * s, 0.68 * s), fill=255)
        draw.ellipse((0.37 * s, 0.33 * s, 0.63 * s, 0.59 * s), fill=0)
        draw.rounded_rectangle((0.44 * s, 0.64 * s, 0.56 * s, 0.84 * s), radius=0.02 * s, fill=255)
    alpha = _coverage(size, ring)
    x, y = _grid(size)
    radius = np.hypot(x - 0.5, y - 0.46)
    tube = np.clip(1 - np.abs(radius - 0.175) / 0.045, 0, 1)  # the ring's round cross-section
    shading = 0.7 + 0.3 * tube - 0.15 * (y - 0.46)
    product = np.array((245, 245, 243), np.float32) * shading[..., None]
    background = _backdrop(size, (242, 242, 244), (222, 222, 226), 0.06)
    return _studio_shot("white ring keychain", 6, alpha, product, background,
                        (0.3, 0.3, 0.7, 0.82), 0.3, holes=((0.5, 0.46),))


def small_key_ring(size: int) -> Case:
    """A brushed-steel split ring with a leather tag: the ring's hole is small, a few dozen pixels."""
    def ring(draw, s):
        draw.ellipse((0.42 * s, 0.16 * s, 0.58 * s, 0.32 * s), fill=255)
        draw.ellipse((0.45 * s, 0.19 * s, 0.55 * s, 0.29 * s), fill=0)
        draw.rounded_rectangle((0.38 * s, 0.3 * s, 0.62 * s, 0.8 * s), radius=0.04 * s, fill=255)
        draw.ellipse((0.475 * s, 0.345 * s, 0.525 * s, 0.395 * s), fill=0)  # the tag's punched eyelet
    alpha = _coverage(size, ring)
    x, y = _grid(size)
    steel = np.array((172, 174, 178), np.float32) * (0.8 + 0.25 * np.cos((x - 0.47) * 40))[..., None]
    leather = np.array((120, 72, 40), np.float32) * (0.85 + 0.15 * _cylinder_shading(size, 0.38, 0.62))[..., None]
    product = np.where((y < 0.3)[..., None], steel, leather)
    background = _backdrop(size, (246, 246, 246), (232, 232, 232), 0.05)
    return _studio_shot("small key ring with tag", 12, alpha, product, background,
                        (0.38, 0.3, 0.62, 0.8), 0.3, holes=((0.5, 0.24), (0.5, 0.37)))


def navy_mug_with_white_label(size: int) -> Case:
    """A navy mug with a white label printed on it: white enclosed by the product is the product."""
    case = _mug_shot(size, 13, "navy mug with a white label", (30, 44, 92), (250, 250, 250), (238, 238, 238),
                     0.04, 0.35)
    pixels = np.asarray(case.image, np.float32).copy()
    label = np.zeros((size, size), np.uint8)
    cv2.rectangle(label, (int(0.33 * size), int(0.42 * size)), (int(0.55 * size), int(0.62 * size)), 255, -1)
    label = cv2.GaussianBlur(label, (0, 0), 0.8).astype(np.float32)[..., None] / 255.0
    white = np.array((250, 250, 250), np.float32) * _cylinder_shading(size, 0.26, 0.62)[..., None] ** 0.3
    pixels = pixels * (1 - label) + np.clip(white, 0, 255) * label
    return Case(case.name, _finish(pixels, 14, noise=0.5, quality=95), case.alpha, case.holes)


def plush(size: int) -> Case:
    """A fuzzy plush toy: the silhouette's edge is fur, so the true alpha is soft over several pixels."""
    def body(draw, s):
        draw.ellipse((0.3 * s, 0.38 * s, 0.7 * s, 0.86 * s), fill=255)
        draw.ellipse((0.34 * s, 0.14 * s, 0.66 * s, 0.46 * s), fill=255)
        draw.ellipse((0.3 * s, 0.1 * s, 0.42 * s, 0.22 * s), fill=255)
        draw.ellipse((0.58 * s, 0.1 * s, 0.7 * s, 0.22 * s), fill=255)
    hard = _coverage(size, body)
    rng = np.random.default_rng(7)
    fur = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), size * 0.003)
    fur = (fur - fur.mean()) / fur.std()
    distance = cv2.distanceTransform((hard > 0.5).astype(np.uint8), cv2.DIST_L2, 5) \
        - cv2.distanceTransform((hard <= 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    width = size * 0.004  # fur tips: a soft transition a few pixels wide that wanders with the tufts
    alpha = np.clip(0.5 + (distance + width * fur) / (2 * width), 0, 1).astype(np.float32)
    x, y = _grid(size)
    texture = 1 + 0.08 * fur
    shading = (0.7 + 0.3 * np.clip(1 - np.hypot(x - 0.42, y - 0.35) * 1.6, 0, 1)) * texture
    product = np.array((196, 150, 104), np.float32) * shading[..., None]
    background = _backdrop(size, (250, 250, 250), (238, 238, 238), 0.05)
    return _studio_shot("plush toy with fuzzy edges", 8, alpha, product, background,
                        (0.32, 0.3, 0.68, 0.86), 0.35)


def t_shirt(size: int) -> Case:
    """A flat-lay heather-grey T-shirt with folds on a white table."""
    def shirt(draw, s):
        pts = [(0.38, 0.16), (0.45, 0.2), (0.55, 0.2), (0.62, 0.16), (0.86, 0.28), (0.78, 0.44), (0.7, 0.4),
               (0.7, 0.86), (0.3, 0.86), (0.3, 0.4), (0.22, 0.44), (0.14, 0.28)]
        draw.polygon([(px * s, py * s) for px, py in pts], fill=255)
        draw.ellipse((0.44 * s, 0.13 * s, 0.56 * s, 0.24 * s), fill=0)
    alpha = _coverage(size, shirt)
    x, y = _grid(size)
    folds = 0.08 * np.sin(x * 31 + 3 * y) * np.exp(-((y - 0.6) / 0.25) ** 2)
    rng = np.random.default_rng(9)
    heather = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), 0.8) * 0.05
    shading = 0.86 + folds + heather
    product = np.array((178, 180, 184), np.float32) * shading[..., None]
    background = _backdrop(size, (247, 247, 247), (240, 240, 240), 0.04)
    return Case("grey T-shirt flat-lay", _finish(_compose(background, product, alpha), 10), alpha)


def character_art(size: int) -> Case:
    """A flat-shaded mascot on white: black outline, white eyes and belly enclosed by it."""
    def body(draw, s):
        draw.ellipse((0.24 * s, 0.3 * s, 0.76 * s, 0.88 * s), fill=255)
        draw.ellipse((0.28 * s, 0.1 * s, 0.72 * s, 0.5 * s), fill=255)
    alpha = _coverage(size, body)
    s = size * SUPERSAMPLE
    art = Image.new("RGB", (s, s), (255, 255, 255))
    draw = ImageDraw.Draw(art)
    line = int(0.012 * s)
    draw.ellipse((0.24 * s, 0.3 * s, 0.76 * s, 0.88 * s), fill=(90, 170, 230), outline=(25, 25, 30), width=line)
    draw.ellipse((0.28 * s, 0.1 * s, 0.72 * s, 0.5 * s), fill=(90, 170, 230), outline=(25, 25, 30), width=line)
    draw.ellipse((0.36 * s, 0.48 * s, 0.64 * s, 0.82 * s), fill=(255, 255, 255), outline=(25, 25, 30),
                 width=line // 2)  # belly
    for cx in (0.41, 0.59):  # eyes: white with a pupil
        draw.ellipse(((cx - 0.06) * s, 0.2 * s, (cx + 0.06) * s, 0.34 * s), fill=(255, 255, 255),
                     outline=(25, 25, 30), width=line // 2)
        draw.ellipse(((cx - 0.02) * s, 0.25 * s, (cx + 0.02) * s, 0.3 * s), fill=(25, 25, 30))
    draw.chord((0.42 * s, 0.34 * s, 0.58 * s, 0.44 * s), 0, 180, fill=(255, 255, 255), outline=(25, 25, 30),
               width=line // 3)  # a grin with white teeth
    # Inside the outline the art is the subject; the head/body seam's stroke overlaps, cover it.
    pixels = np.asarray(art.resize((size, size), Image.Resampling.LANCZOS), np.float32)
    return Case("character art with white eyes and belly", _finish(pixels, 11, noise=1.0, quality=92), alpha,
                kind="character", enclosed=((0.41, 0.22), (0.59, 0.22), (0.5, 0.41), (0.5, 0.65)))


ALL = (white_mug_on_white, white_mug_on_grey_seamless, printed_mug, navy_mug_with_white_label,
       mug_with_printed_character, cream_on_cream,
       dark_on_dark, ring_keychain, small_key_ring, plush, t_shirt, character_art)


def cases(size: int = 768) -> list[Case]:
    return [make(size) for make in ALL]


def on_backdrop(case: Case, rgb: tuple[int, int, int]) -> Image.Image:
    """The case's product alone on a flat backdrop of one colour, as an image model asked for one would
    return it (its own noise and compression, no studio gradient, no shadow)."""
    pixels = np.asarray(case.image, np.float32)
    flat = np.broadcast_to(np.array(rgb, np.float32), pixels.shape)
    return _finish(_compose(flat, pixels, case.alpha), 21, noise=1.2, quality=92)


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    a, b = alpha >= 0.5, truth >= 0.5
    return float(np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b)))


def sad(alpha: np.ndarray, truth: np.ndarray) -> float:
    """Sum of absolute alpha differences, in thousands (the matting literature's unit)."""
    return float(np.abs(alpha - truth).sum() / 1000.0)
