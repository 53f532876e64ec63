"""Rendering a 2D design sketch as a shaded product shot (the local engine's sketch to real).

`analyse` reads the drawing once: it evens out the paper, finds the ink lines, closes small gaps, and
takes the areas the lines enclose as the product's parts, each with the sketch's own colour when it was
coloured in. `render` then builds a height field from distance transforms (a rounded bevel at the
outline, shallow grooves along inner lines), lights it, adds material grain, a drop shadow and a
studio backdrop. Every line and part of the sketch stays where it was drawn, so the proportions and
design details survive; a `Look` only changes material and light.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from mockup.imaging.compose import PLAIN_BACKGROUND, feather, to_image
from mockup.imaging.matting import fill_holes, keep_main_components

NOISE_SEED = 20240611  # fixed: the grain must be identical for identical requests
MIN_COLOURED_SATURATION = 0.18  # below this a coloured-in area is paper or pencil shading, not a colour


@dataclass(frozen=True)
class Drawing:
    """What the sketch says, plus the solid shape derived from it, shared by every candidate: ink
    darkness along the lines, the product's silhouette, its enclosed parts (labels, 0 = none), each
    part's drawn colour (NaN = uncoloured), surface normals (H x W x 3, unit) and ambient occlusion."""

    line_strength: np.ndarray
    silhouette: np.ndarray
    parts: np.ndarray
    part_colours: np.ndarray
    normals: np.ndarray
    occlusion: np.ndarray


@dataclass(frozen=True)
class Look:
    """A material and lighting setup for one candidate."""

    material: tuple[int, int, int]
    light: tuple[float, float, float]
    gloss: float
    shininess: float
    grain: float
    backdrop_top: tuple[int, int, int]
    backdrop_bottom: tuple[int, int, int]


LOOKS = (
    Look(material=(222, 210, 188), light=(-0.45, -0.55, 0.70), gloss=0.12, shininess=12.0, grain=0.025,
         backdrop_top=(238, 240, 244), backdrop_bottom=(200, 205, 214)),
    Look(material=(150, 172, 196), light=(0.50, -0.45, 0.74), gloss=0.55, shininess=40.0, grain=0.015,
         backdrop_top=(246, 240, 232), backdrop_bottom=(208, 196, 182)),
)


def look(index: int) -> Look:
    """Candidate looks: matte ceramic lit from the left, then satin plastic lit from the right; further
    candidates reuse them with the light mirrored."""
    base = LOOKS[index % len(LOOKS)]
    if (index // len(LOOKS)) % 2 == 0:
        return base
    x, y, z = base.light
    return Look(base.material, (-x, y, z), base.gloss, base.shininess, base.grain,
                base.backdrop_top, base.backdrop_bottom)


def analyse(image: Image.Image) -> Drawing:
    """Read lines, silhouette and parts from a sketch (an RGB image, transparency already flattened)."""
    rgb = np.asarray(image.convert("RGB"), np.float32)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    flat = _flatten_paper(gray)
    ink = flat < _ink_threshold(flat)
    size = max(gray.shape)
    solid = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, _disc(max(5, size // 80))) > 0
    lines = _drop_specks(ink & ~solid, min_area=max(4, gray.size // 5000))
    closed = cv2.dilate(lines.astype(np.uint8), _disc(3)) > 0  # bridges pen gaps of a pixel or two
    silhouette = _silhouette(closed | solid, size)
    count, parts = cv2.connectedComponents((silhouette & ~closed).astype(np.uint8), connectivity=4)
    strength = np.clip((235.0 - flat) / 160.0, 0.0, 1.0) * (cv2.dilate(lines.astype(np.uint8), _disc(3)) > 0)
    normals, occlusion = _relief(silhouette, lines)
    return Drawing(strength, silhouette, parts, _part_colours(rgb, parts, count), normals, occlusion)


def render(drawing: Drawing, how: Look, texture: Image.Image | None = None,
           plain_background: bool = False) -> Image.Image:
    """Light the drawing's parts as a solid object and place it in a studio shot."""
    height, width = drawing.silhouette.shape
    albedo = _albedo(drawing, how, texture)
    shading, specular = _lighting(drawing, how)
    product = albedo * shading[..., None] + 255.0 * specular[..., None]
    product *= 1.0 - 0.65 * drawing.line_strength[..., None]  # seams and printed details stay visible
    alpha = feather(drawing.silhouette.astype(np.float32), 1.0)
    if plain_background:
        backdrop = np.broadcast_to(np.array(PLAIN_BACKGROUND, np.float32), (height, width, 3))
    else:
        backdrop = _studio_backdrop((height, width), how) * _shadow(drawing.silhouette, how)[..., None]
    return to_image(backdrop * (1 - alpha[..., None]) + product * alpha[..., None])


def _flatten_paper(gray: np.ndarray) -> np.ndarray:
    """Divide out uneven paper lighting (a phone photo of a sketch) so one ink threshold fits all."""
    size = max(gray.shape)
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, _disc(max(9, size // 30) | 1))
    paper = cv2.GaussianBlur(paper, (0, 0), max(2.0, size / 100))
    return np.clip(gray / np.maximum(paper, 1.0) * 255.0, 0, 255)


def _ink_threshold(flat: np.ndarray) -> float:
    """Otsu between ink and paper, capped so light marker fills are not mistaken for lines."""
    otsu, _ = cv2.threshold(flat.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(min(otsu, 150.0))


def _drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = 1 + np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area)
    return np.isin(labels, keep)


def _silhouette(barrier: np.ndarray, size: int) -> np.ndarray:
    """The product's outline filled in; open outlines are closed with growing effort, and a sketch
    that encloses nothing at all becomes the convex hull of its strokes."""
    for gap in (0, size // 40, size // 15):
        closed = barrier if gap == 0 else cv2.morphologyEx(
            barrier.astype(np.uint8), cv2.MORPH_CLOSE, _disc(gap | 1)) > 0
        filled = keep_main_components(fill_holes(closed))
        if np.count_nonzero(filled & ~closed) > 0.01 * barrier.size:
            return filled
    points = cv2.findNonZero(barrier.astype(np.uint8))
    hull = np.zeros(barrier.shape, np.uint8)
    if points is not None:
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    return hull > 0


def _part_colours(rgb: np.ndarray, parts: np.ndarray, count: int) -> np.ndarray:
    """Mean drawn colour of every part, NaN where the part was left uncoloured."""
    flat_parts = parts.ravel()
    pixels = np.bincount(flat_parts, minlength=count).astype(np.float32)
    means = np.stack([np.bincount(flat_parts, rgb[..., c].ravel(), minlength=count) for c in range(3)], 1)
    means = (means / np.maximum(pixels, 1.0)[:, None]).astype(np.float32)
    hsv = cv2.cvtColor(means.reshape(-1, 1, 3) / 255.0, cv2.COLOR_RGB2HSV).reshape(-1, 3)
    colours = means.copy()
    colours[hsv[:, 1] < MIN_COLOURED_SATURATION] = np.nan
    colours[0] = np.nan
    return colours


def _albedo(drawing: Drawing, how: Look, texture: Image.Image | None) -> np.ndarray:
    """Base colour per pixel: the part's drawn colour, else the texture, else the look's material.
    Uncoloured parts alternate a few percent in lightness so separate panels read as separate."""
    height, width = drawing.parts.shape
    if texture is not None:
        material = np.asarray(texture.convert("RGB").resize((width, height), Image.Resampling.BILINEAR),
                              np.float32)
    else:
        material = np.broadcast_to(np.array(how.material, np.float32), (height, width, 3))
    panel = 1.0 + 0.04 * ((drawing.parts % 3) - 1).astype(np.float32)
    colours = drawing.part_colours[drawing.parts]
    coloured = ~np.isnan(colours[..., 0])
    albedo = np.where(coloured[..., None], np.nan_to_num(colours), material * panel[..., None])
    return albedo * (1.0 + _grain((height, width), how)[..., None])


def _relief(silhouette: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface normals of a height field with a rounded bevel at the outline and shallow grooves along
    inner lines, and the ambient occlusion that darkens those grooves and the rim."""
    size = max(silhouette.shape)
    to_outline = cv2.distanceTransform(silhouette.astype(np.uint8), cv2.DIST_L2, 5)
    to_line = cv2.distanceTransform((~lines).astype(np.uint8), cv2.DIST_L2, 5)
    bevel, groove = size / 18.0, size / 90.0
    height = 0.75 * bevel * _smoothstep(to_outline / bevel) + 0.25 * bevel * _smoothstep(to_line / groove)
    height = cv2.GaussianBlur(height, (0, 0), 1.5)
    slope_x = cv2.Sobel(height, cv2.CV_32F, 1, 0) / 8.0
    slope_y = cv2.Sobel(height, cv2.CV_32F, 0, 1) / 8.0
    normals = np.dstack([-slope_x, -slope_y, np.ones_like(height)])
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    occlusion = 1.0 - 0.3 * np.exp(-to_line / (size / 120.0)) - 0.1 * np.exp(-to_outline / (size / 60.0))
    return normals, occlusion


def _lighting(drawing: Drawing, how: Look) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse shading (with occlusion and a broad form falloff) and a Blinn-Phong specular term."""
    light = np.array(how.light, np.float32) / np.linalg.norm(how.light)
    halfway = light + np.array([0.0, 0.0, 1.0], np.float32)
    halfway /= np.linalg.norm(halfway)
    diffuse = np.maximum(0.0, drawing.normals @ light)
    specular = how.gloss * np.maximum(0.0, drawing.normals @ halfway) ** how.shininess
    shading = (0.35 + 0.75 * diffuse) * drawing.occlusion * _form_light(drawing.silhouette, how)
    return shading, specular


def _form_light(silhouette: np.ndarray, how: Look) -> np.ndarray:
    """A broad falloff across the object away from the light, so it reads as a volume, not a sticker."""
    ys, xs = np.nonzero(silhouette)
    if xs.size == 0:
        return np.ones(silhouette.shape, np.float32)
    height, width = silhouette.shape
    u = (np.arange(width, dtype=np.float32) - xs.mean()) / max(1.0, float(np.ptp(xs)))
    v = (np.arange(height, dtype=np.float32) - ys.mean()) / max(1.0, float(np.ptp(ys)))
    return np.clip(1.0 + 0.25 * (u[None, :] * how.light[0] + v[:, None] * how.light[1]), 0.75, 1.15)


def _grain(shape: tuple[int, int], how: Look) -> np.ndarray:
    """Deterministic material grain: blurred noise, made at half size for speed."""
    rng = np.random.default_rng(NOISE_SEED)
    small = rng.standard_normal((shape[0] // 2 + 1, shape[1] // 2 + 1)).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), 0.8)
    noise = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return how.grain * noise / max(float(noise.std()), 1e-6)


def _shadow(silhouette: np.ndarray, how: Look) -> np.ndarray:
    """Multiplier for the backdrop: a soft shadow cast away from the light, plus a tighter contact shadow."""
    size = max(silhouette.shape)
    mask = silhouette.astype(np.float32)
    lx, ly = how.light[0], how.light[1]
    cast = _shifted(mask, round(-lx * size * 0.03), round(size * 0.03 - ly * size * 0.02))
    contact = _shifted(mask, 0, round(size * 0.008))
    shade = 0.35 * _wide_blur(cast, size * 0.025) + 0.25 * feather(contact, size * 0.006)
    return 1.0 - np.clip(shade, 0.0, 0.6)


def _wide_blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A large Gaussian blur done at a quarter of the size: same look, a fraction of the time."""
    height, width = mask.shape
    small = cv2.resize(mask, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(0.5, sigma / 4))
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _studio_backdrop(shape: tuple[int, int], how: Look) -> np.ndarray:
    """A vertical sweep from the look's top to bottom colour with a soft pool of light in the middle."""
    height, width = shape
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array(how.backdrop_top, np.float32), np.array(how.backdrop_bottom, np.float32)
    sweep = top * (1 - t) + bottom * t
    across = np.exp(-((np.linspace(0.0, 1.0, width, dtype=np.float32) - 0.5) ** 2) / 0.18)
    down = np.exp(-((np.linspace(0.0, 1.0, height, dtype=np.float32) - 0.45) ** 2) / 0.18)
    pool = down[:, None] * across[None, :]  # separable Gaussian pool of light
    return np.clip(sweep * (0.93 + 0.09 * pool[..., None]), 0, 255)


def _shifted(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(mask, matrix, mask.shape[::-1], flags=cv2.INTER_NEAREST)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _disc(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))
