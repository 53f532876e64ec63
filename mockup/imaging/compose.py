"""Pixel helpers for putting a character onto a product photo (the local engine's IP change).

The steps mirror what a retoucher does by hand: find where the old print sits, paint it out, fit the new
character into that spot without distorting it, relight it like the surface it lands on, and blend the
edge so it reads as printed rather than pasted. Arrays are float32 RGB in 0..255 unless said otherwise;
boxes are (x0, y0, x1, y1) in pixels, end-exclusive.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from mockup.imaging.matting import estimate_background, fill_holes, keep_main_components

Box = tuple[int, int, int, int]

DETECT_SIDE = 256  # detection and print removal run on a small copy: they only need coarse shapes
FALLBACK_SHARE = 0.45  # without a detected print, the character covers this share of the product's sides
PLAIN_BACKGROUND = (245, 245, 245)
COLOUR_FLOOR = 25.0  # Lab distance from the body colour that counts as fully "print-like"
EDGE_FLOOR = 30.0  # blurred Sobel response of Lab lightness that counts as fully "print-like"
PRINT_DISTANCE = 12.0  # Lab distance from the fitted surface at which a pixel next to the print is print too
MIN_PRINT_SCORE = 0.35  # weaker evidence than this is shading or texture, not a print


@dataclass(frozen=True)
class PrintRegion:
    """Where the character goes: its box, the old print's pixels (None if nothing was detected) and
    the product's silhouette, all at the photo's resolution."""

    box: Box
    old_print: np.ndarray | None
    product: np.ndarray


def resize_long_side(image: Image.Image, long_side: int) -> Image.Image:
    """Scale so the longer side is exactly `long_side`, keeping the aspect ratio."""
    width, height = image.size
    scale = long_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def shrink_to(image: Image.Image, long_side: int) -> Image.Image:
    """Downscale so the longer side is at most `long_side`; smaller images are left alone."""
    return resize_long_side(image, long_side) if max(image.size) > long_side else image


def crop_to_alpha(image: Image.Image) -> Image.Image:
    """Trim transparent margins, so fitting uses the character's visible extent, not its canvas."""
    box = image.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    return image.crop(box) if box else image


def detect_print_region(rgb: np.ndarray) -> PrintRegion:
    """Find the existing character or print on the product.

    Prints differ from the product body by colour and carry many edges, while shading is smooth; so the
    score is edge density plus colour distance from the body's typical colour, inside the product's
    silhouette and away from its outline. The largest blob in the central area wins and is grown to the
    print's colour edge. When nothing convincing stands out, a centred box on the product is used.
    """
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    product = product_silhouette(small)
    blob = _salient_blob(small, product)
    full_product = _upsample_mask(product, (width, height))
    if blob is None:
        return PrintRegion(_centred_box(_bbox(full_product), FALLBACK_SHARE), None, full_product)
    old_print = _upsample_mask(_whole_print(small, blob, product), (width, height))
    return PrintRegion(_bbox(old_print), old_print, full_product)


def product_silhouette(rgb: np.ndarray) -> np.ndarray:
    """A quick product mask from the backdrop colour; the whole frame when the backdrop is a scene."""
    background = estimate_background(rgb)
    if not background.uniform:
        return _inset(rgb.shape[:2], 0.05)
    distance = np.linalg.norm(_lab(rgb) - background.lab, axis=2)
    # Holes are not filled: a mug handle's opening is backdrop, and must not be textured or searched.
    mask = keep_main_components(distance > max(6.0, 3.0 * background.spread))
    share = np.count_nonzero(mask) / mask.size
    return mask if 0.03 <= share <= 0.97 else _inset(rgb.shape[:2], 0.05)


def _salient_blob(rgb: np.ndarray, product: np.ndarray) -> np.ndarray | None:
    """The old print's pixels, or None when no blob of a plausible size (2-70 % of the product) stands out."""
    size = max(rgb.shape[:2])
    search = _search_area(product, size)
    if np.count_nonzero(search) < 0.02 * product.size:
        return None
    colour, edges = _print_evidence(rgb, search)
    score = 0.5 * colour + 0.5 * edges
    values = np.clip(score[search] * 255, 0, 255).astype(np.uint8)
    threshold, _ = cv2.threshold(values.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    seed = (score * 255 > max(threshold, MIN_PRINT_SCORE * 255)) & search
    seed = cv2.morphologyEx(seed.astype(np.uint8), cv2.MORPH_CLOSE, _disc(max(3, size // 20))) > 0
    seed = keep_main_components(seed & search, min_share=1.0)
    # Edge evidence is blurred, so the seed stops short of the print's outline; grow it into nearby
    # pixels whose colour clearly differs from the body, up to the product's own outline.
    near = cv2.dilate(seed.astype(np.uint8), _disc(max(3, size // 20))) > 0
    blob = fill_holes(seed | (near & (colour > 0.5) & product))
    share = np.count_nonzero(blob) / max(1, np.count_nonzero(product))
    return blob if 0.02 <= share <= 0.7 else None


def _whole_print(rgb: np.ndarray, blob: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Grow the detected blob to the whole print: every nearby product pixel whose colour stands out
    from the product's own surface (a smooth fit of its shading), so thin parts such as ears, outlines
    and text that the blurred evidence missed go with it."""
    size = max(rgb.shape[:2])
    near = cv2.dilate(blob.astype(np.uint8), _disc(max(3, size // 8) | 1)) > 0
    known = product & ~cv2.dilate(blob.astype(np.uint8), _disc(max(3, size // 40) | 1)).astype(bool)
    if np.count_nonzero(known & near) < 50:
        return blob
    surface = surface_fit(rgb, known & near, near)
    distance = np.linalg.norm(_lab(rgb) - _lab(surface), axis=2)
    stands_out = cv2.morphologyEx((distance > PRINT_DISTANCE).astype(np.uint8), cv2.MORPH_OPEN, _disc(3)) > 0
    return fill_holes(blob | (stands_out & near & product))


def surface_fit(rgb: np.ndarray, known: np.ndarray, where: np.ndarray, degree: int = 3) -> np.ndarray:
    """The product's bare surface under `where`: each colour channel fitted by least squares with a
    polynomial in x and y (up to `degree`) to the `known` surface pixels. Shading across a mug or a box
    face is smooth, so the fit carries it straight through where a print was."""
    height, width = rgb.shape[:2]
    ys, xs = np.nonzero(where | known)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    y, x = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u, v = (x - x0) / max(1, x1 - x0) * 2 - 1, (y - y0) / max(1, y1 - y0) * 2 - 1
    terms = np.stack([u ** i * v ** j for i in range(degree + 1) for j in range(degree + 1 - i)], -1)
    sample = known[y0:y1, x0:x1]
    coefficients, *_ = np.linalg.lstsq(terms[sample], rgb[y0:y1, x0:x1][sample].astype(np.float32), rcond=None)
    out = rgb.astype(np.float32).copy()
    window = out[y0:y1, x0:x1]
    inside = where[y0:y1, x0:x1]
    window[inside] = np.clip(terms[inside] @ coefficients, 0, 255)
    return out


def _search_area(product: np.ndarray, size: int) -> np.ndarray:
    """Where a print is looked for: the product's central part, away from its outline and handles."""
    area = cv2.erode(product.astype(np.uint8), _disc(max(3, size // 25))) > 0
    x0, y0, x1, y1 = _bbox(product)
    dx, dy = (x1 - x0) // 10, (y1 - y0) // 10
    central = np.zeros_like(area)
    central[y0 + dy:y1 - dy, x0 + dx:x1 - dx] = True
    return area & central


def _print_evidence(rgb: np.ndarray, search: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two 0..1 maps: colour distance from the body's typical colour, and blurred edge density."""
    lab = _lab(rgb)
    body = np.median(lab[search], axis=0)
    weights = np.array([0.5, 1.0, 1.0], np.float32)  # shading changes lightness, prints change colour too
    colour = np.linalg.norm((lab - body) * weights, axis=2)
    gray = lab[:, :, 0]
    edges = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    edges = cv2.GaussianBlur(edges, (0, 0), max(1.0, max(rgb.shape[:2]) / 64))
    return _normalise(colour, search, COLOUR_FLOOR), _normalise(edges, search, EDGE_FLOOR)


def remove_print(rgb: np.ndarray, old_print: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Paint the old print out with the product's own surface, keeping its shading.

    The hole (the print with a margin of about 2.5 % of the image, as its edge is soft) is filled with a
    smooth fit of the surrounding surface (`surface_fit`) plus grain as strong as the surface's own, so
    it reads as the same ceramic or card rather than a smear; the fit runs on a small copy, as surfaces
    are smooth, and only the hole, with a feathered edge, is replaced.
    """
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(rgb.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    hole = cv2.resize(old_print.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    hole = cv2.dilate(hole, _disc(max(3, max(size) // 40) | 1)) > 0
    body = cv2.resize(product.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    ring = (cv2.dilate(hole.astype(np.uint8), _disc(max(5, max(size) // 10) | 1)) > 0) & ~hole & body
    if np.count_nonzero(ring) < 30:  # no surface around it to learn from: fall back to inpainting
        filled = cv2.inpaint(np.clip(small, 0, 255).astype(np.uint8), hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    else:
        filled = surface_fit(small, ring, hole)
    smooth = cv2.resize(filled.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    margin = cv2.resize(hole.astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    weight = np.clip(2.0 * feather(margin, max(1.0, width / 400)), 0.0, 1.0)[..., None]
    return rgb.astype(np.float32) * (1 - weight) + (smooth + _grain(rgb, margin > 0)) * weight


def _grain(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Noise as strong as the photo's own grain around the hole (fixed seed: the same request gives the
    same pixels), so the filled patch is not suspiciously clean."""
    ring = (cv2.dilate(hole.astype(np.uint8), _disc(15)) > 0) & ~hole
    detail = rgb.astype(np.float32) - cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), 2.0)
    strength = float(np.median(np.abs(detail[ring]))) * 1.4826 if ring.any() else 0.0
    noise = np.random.default_rng(0).normal(0.0, strength, rgb.shape[:2])[..., None]
    return np.repeat(noise, 3, axis=2).astype(np.float32)


def fit_box(content_size: tuple[int, int], box: Box, scale: float = 1.0,
            shift: tuple[float, float] = (0.0, 0.0)) -> Box:
    """The largest box of the content's aspect ratio inside `box`, scaled about the box centre and
    shifted by a fraction of the box size, so the character is never stretched."""
    width, height = content_size
    bx0, by0, bx1, by1 = box
    fit = min((bx1 - bx0) / width, (by1 - by0) / height) * scale
    w, h = max(1, round(width * fit)), max(1, round(height * fit))
    cx = (bx0 + bx1) / 2 + shift[0] * (bx1 - bx0)
    cy = (by0 + by1) / 2 + shift[1] * (by1 - by0)
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    return x0, y0, x0 + w, y0 + h


def exposure(rgb: np.ndarray, product: np.ndarray) -> float:
    """Lab lightness of the product's brightest lit parts (95th percentile): the reference that
    `match_lighting` measures the surface's shading against."""
    lightness = _lab(rgb)[:, :, 0]
    return float(np.percentile(lightness[product], 95)) if product.any() else float(lightness.max())


def pixels_under(base: np.ndarray, box: Box) -> np.ndarray:
    """The pixels under `box`, edge-padded where the box leaves the frame."""
    height, width = base.shape[:2]
    x0, y0, x1, y1 = box
    ys = np.clip(np.arange(y0, y1), 0, height - 1)
    xs = np.clip(np.arange(x0, x1), 0, width - 1)
    return base[np.ix_(ys, xs)]


def match_lighting(overlay: np.ndarray, surface: np.ndarray, lit_level: float, strength: float) -> np.ndarray:
    """Relight the character like the surface under it (Lab statistics).

    The surface's smooth lightness variation, relative to the product's brightest lit parts
    (`lit_level`, from `exposure`), scales the character's lightness, and a near-neutral surface's
    colour cast is carried over; a strongly coloured surface is the product's own paint, not light, so
    its hue is left alone.
    """
    lab = _lab(overlay)
    surface_lab = _lab(surface)
    lightness = cv2.GaussianBlur(surface_lab[:, :, 0], (0, 0), max(2.0, max(surface.shape[:2]) / 12))
    shading = np.clip(lightness / max(lit_level, 1.0), 0.55, 1.1)
    lab[:, :, 0] *= 1.0 - strength + strength * shading
    cast = surface_lab[:, :, 1:].reshape(-1, 2).mean(axis=0)
    if np.hypot(*cast) < 15.0:
        lab[:, :, 1:] += strength * 0.6 * cast
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0


def feather(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Soften an alpha edge so the overlay blends in instead of showing a cut line."""
    return cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), sigma) if sigma > 0 else alpha


def paste(base: np.ndarray, overlay: np.ndarray, alpha: np.ndarray, box: Box) -> np.ndarray:
    """Alpha-blend `overlay` (the size of `box`) into `base`; parts outside the frame are dropped."""
    out = base.copy()
    target, source = _clip(box, base.shape[:2])
    if target is None:
        return out
    (tx0, ty0, tx1, ty1), (sx0, sy0, sx1, sy1) = target, source
    a = alpha[sy0:sy1, sx0:sx1, None]
    out[ty0:ty1, tx0:tx1] = base[ty0:ty1, tx0:tx1] * (1 - a) + overlay[sy0:sy1, sx0:sx1] * a
    return out


def drop_shadow(base: np.ndarray, alpha: np.ndarray, box: Box, offset: tuple[int, int],
                blur: float, opacity: float) -> np.ndarray:
    """Darken `base` under a blurred, offset copy of `alpha`: a soft contact shadow."""
    height, width = base.shape[:2]
    x0, y0, x1, y1 = box
    layer = np.zeros((height, width), np.float32)
    target, source = _clip((x0 + offset[0], y0 + offset[1], x1 + offset[0], y1 + offset[1]), (height, width))
    if target is None:
        return base
    (tx0, ty0, tx1, ty1), (sx0, sy0, sx1, sy1) = target, source
    layer[ty0:ty1, tx0:tx1] = alpha[sy0:sy1, sx0:sx1]
    shade = 1.0 - opacity * feather(layer, blur)
    return base * shade[..., None]


def texture_overlay(rgb: np.ndarray, mask: np.ndarray, texture: Image.Image, opacity: float) -> np.ndarray:
    """Tint the masked material with the reference texture's colours and pattern.

    The texture is divided by its own mean brightness, so it shifts hue and adds grain while the photo
    keeps its lightness and shading; `opacity` keeps the effect a hint rather than a re-skin.
    """
    height, width = rgb.shape[:2]
    tex = np.asarray(texture.convert("RGB").resize((width, height), Image.Resampling.BILINEAR), np.float32)
    brightness = max(float((tex @ np.array([0.299, 0.587, 0.114], np.float32)).mean()), 1.0)
    weight = opacity * feather(mask.astype(np.float32), 2.0)[..., None]
    return np.clip(rgb * (1.0 + weight * (tex / brightness - 1.0)), 0, 255)


def on_plain_background(rgb: np.ndarray, alpha: np.ndarray,
                        colour: tuple[int, int, int] = PLAIN_BACKGROUND) -> np.ndarray:
    """Put the subject on a uniform light backdrop, ready for the separate cut-out step."""
    a = alpha[..., None]
    return rgb * a + np.array(colour, np.float32) * (1 - a)


def to_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


def _clip(box: Box, shape: tuple[int, int]) -> tuple[Box, Box] | tuple[None, None]:
    """The part of `box` inside an image of `shape`, and the matching part of the box's own pixels."""
    height, width = shape
    x0, y0, x1, y1 = box
    tx0, ty0, tx1, ty1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if tx0 >= tx1 or ty0 >= ty1:
        return None, None
    return (tx0, ty0, tx1, ty1), (tx0 - x0, ty0 - y0, tx1 - x0, ty1 - y0)


def _centred_box(box: Box, share: float) -> Box:
    x0, y0, x1, y1 = box
    w, h = (x1 - x0) * share, (y1 - y0) * share
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return round(cx - w / 2), round(cy - h / 2), round(cx + w / 2), round(cy + h / 2)


def _bbox(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return 0, 0, mask.shape[1], mask.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _inset(shape: tuple[int, int], margin: float) -> np.ndarray:
    height, width = shape
    mask = np.zeros(shape, bool)
    my, mx = round(height * margin), round(width * margin)
    mask[my:height - my, mx:width - mx] = True
    return mask


def _upsample_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR) >= 0.5


def _normalise(values: np.ndarray, where: np.ndarray, floor: float) -> np.ndarray:
    """Scale to 0..1 by the strongest response, but never by less than `floor`, so the faint shading
    of a product without any print is not stretched into a fake detection."""
    top = max(float(np.percentile(values[where], 99)), floor)
    return np.clip(values / top, 0.0, 1.0)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab in real units (L 0..100) of a 0..255 RGB array."""
    return cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _disc(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))
