"""Cutting a product or a character out of its background (DESIGN.md section 6, cut-outs).

A segmentation network (mockup/imaging/segmentation.py) tells what the subject is, on a small copy of
the image. Everything after that happens at full resolution, because a 320-px mask scaled up is blurry
and blind to small openings:

1. the upscaled mask is snapped to the photo's own edges with a guided filter (He et al.), which gives
   soft, anti-aliased edges that follow the silhouette rather than the mask's pixel grid;
2. the background is modelled as a smooth plate (studio sweeps have gradients and vignettes), and
   openings inside a product that show that plate (a mug handle's hole, a ring, a tag's eyelet) are
   made transparent; a character keeps everything its outline encloses instead (white eyes, a belly);
3. edge pixels are decontaminated: the backdrop's colour is taken out of them, so a cut-out laid on
   another colour shows no light or dark fringe.

The same image always gives the same alpha.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from . import segmentation

UNIFORM_BACKGROUND_SPREAD = 25.0  # border colour spread (Lab units) beyond which the border is a scene
MIN_SUBJECT_SHARE = 0.01  # below this the network found nothing: keep the picture rather than erase it
GUIDE_EPS = 2e-3  # guided filter regularisation (guide in 0..1): lower follows weaker image edges
EDGE_GAIN = 1.5  # steepens the filtered mask's transition back to an edge one or two pixels wide
PLATE_SIDE = 128  # the background plate is smooth: solve it small and scale it up
HOLE_MIN_SHARE = 2e-5  # openings smaller than this share of the image are noise, not holes
HOLE_EDGE_CONTRAST = 2.5  # a hole's rim must differ from the backdrop this many times the noise
HOLE_BIAS = 0.5  # the backdrop seen through a hole matches the plate on average to this share of the noise


@dataclass(frozen=True)
class Background:
    """The background colour seen along the image border, and how uniform it is."""

    rgb: np.ndarray
    lab: np.ndarray
    spread: float

    @property
    def uniform(self) -> bool:
        return self.spread <= UNIFORM_BACKGROUND_SPREAD


def cut_out(image: Image.Image, *, fill_enclosed: bool = False) -> Image.Image:
    """Return the subject as RGBA with a transparent background.

    An image that already has real transparency (a character exported as a PNG cut-out) is trusted as
    it is. If no subject can be separated, the image is returned fully opaque rather than empty.
    `fill_enclosed` keeps background-coloured areas that the subject fully surrounds: right for
    character art (a white face or belly inside the outline), wrong for products (a mug handle's hole).
    """
    rgba = image.convert("RGBA")
    if has_meaningful_alpha(rgba):
        return rgba
    rgb = np.asarray(rgba.convert("RGB"))
    alpha = np.rint(foreground_alpha(rgb, fill_enclosed=fill_enclosed) * 255).astype(np.uint8)
    colour = decontaminate(rgb, alpha.astype(np.float32) / 255.0)
    return Image.fromarray(np.dstack([colour, alpha]), "RGBA")


def cut_out_character(image: Image.Image) -> Image.Image:
    """Character art as RGBA: the outline's inside stays opaque, white eyes, teeth and belly included."""
    return cut_out(image, fill_enclosed=True)


def has_meaningful_alpha(image: Image.Image) -> bool:
    """True when at least half a percent of the pixels are visibly transparent."""
    if "A" not in image.getbands():
        return False
    alpha = np.asarray(image.getchannel("A"))
    return bool(np.count_nonzero(alpha < 250) >= 0.005 * alpha.size)


def foreground_alpha(rgb: np.ndarray, *, fill_enclosed: bool = False) -> np.ndarray:
    """Alpha (float32, 0..1) of the subject in an RGB array, at the array's own resolution."""
    height, width = rgb.shape[:2]
    model = segmentation.segmenter()
    coarse = cv2.resize(model.saliency(rgb), (width, height), interpolation=cv2.INTER_LINEAR)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, round(1.5 * max(width / model.size[0], height / model.size[1])))
    alpha = np.clip((guided_filter(grey, coarse, radius, GUIDE_EPS) - 0.5) * EDGE_GAIN + 0.5, 0.0, 1.0)
    mask = keep_main_components(alpha >= 0.5)
    if np.count_nonzero(mask) < MIN_SUBJECT_SHARE * mask.size:
        return np.ones((height, width), np.float32)
    window = np.ones((2 * radius + 1,) * 2, np.uint8)
    near_subject = cv2.dilate(mask.astype(np.uint8), window) > 0
    alpha = np.where(near_subject, alpha, 0.0).astype(np.float32)
    if fill_enclosed:
        return _opaque_inside(alpha, mask, fill_holes(mask), window)
    plate, noise = background_plate(rgb, alpha)
    difference = backdrop_difference(rgb, plate)
    solid = mask | enclosed_surface(mask, np.linalg.norm(difference, axis=2) < 2.0 * noise)
    alpha = _opaque_inside(alpha, mask, solid, window)
    alpha[see_through_openings(mask, difference, noise)] = 0.0
    return alpha


def _opaque_inside(alpha: np.ndarray, mask: np.ndarray, solid: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Away from its outline a subject is opaque, and so is what it encloses (`solid` less `mask`): the
    network's doubts inside a solid object, such as a pasted print, are not partial transparency."""
    inside = cv2.erode(solid.astype(np.uint8), window) > 0
    return np.where(inside | (solid & ~mask), 1.0, alpha).astype(np.float32)


def backdrop_difference(rgb: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """Each pixel, lightly smoothed against noise, minus the backdrop plate (Lab)."""
    return cv2.GaussianBlur(to_lab(rgb), (0, 0), 1.0) - plate


def enclosed_surface(mask: np.ndarray, backdrop_like: np.ndarray) -> np.ndarray:
    """Areas the mask encloses that do not show the backdrop: the network's misses inside a product
    (a hole in a product must show what is behind it, so anything else there is product)."""
    enclosed = fill_holes(mask) & ~mask
    count, labels = cv2.connectedComponents(enclosed.astype(np.uint8), connectivity=4)
    if count <= 1:
        return enclosed
    shows_backdrop = np.bincount(labels[enclosed], weights=backdrop_like[enclosed], minlength=count)
    sizes = np.bincount(labels[enclosed], minlength=count)
    surface = np.flatnonzero(shows_backdrop < 0.5 * np.maximum(sizes, 1))
    return np.isin(labels, surface[surface > 0])


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He, Sun and Tang's guided filter (grey guide): `source` smoothed, but with the guide's edges."""
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(values, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_guide, mean_source = mean(guide), mean(source)
    covariance = mean(guide * source) - mean_guide * mean_source
    variance = mean(guide * guide) - mean_guide * mean_guide
    a = covariance / (variance + eps)
    b = mean_source - a * mean_guide
    return mean(a) * guide + mean(b)


def background_plate(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, float]:
    """The backdrop's colour everywhere (Lab), filled in behind the subject, and its noise level.

    Solved on a small copy by normalised convolution of the certain background pixels: smooth like a
    studio sweep's gradient and vignette, and cheap whatever the image size.
    """
    height, width = rgb.shape[:2]
    scale = min(1.0, PLATE_SIDE / max(height, width))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    lab = to_lab(rgb)
    certain = (cv2.erode((alpha < 0.02).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0).astype(np.float32)
    small_lab = cv2.resize(lab * certain[..., None], small_size, interpolation=cv2.INTER_AREA)
    small_weight = cv2.resize(certain, small_size, interpolation=cv2.INTER_AREA)
    plate = np.zeros_like(small_lab)
    filled = np.zeros(small_weight.shape, bool)
    for sigma in (1.0, 3.0, 9.0, 27.0):  # widen until every pixel has background around it
        weight = cv2.GaussianBlur(small_weight, (0, 0), sigma)
        estimate = cv2.GaussianBlur(small_lab, (0, 0), sigma) / np.maximum(weight, 1e-6)[..., None]
        fresh = ~filled & (weight > 0.05)
        plate[fresh] = estimate[fresh]
        filled |= fresh
    if not filled.all():
        plate[~filled] = np.median(lab[certain > 0], axis=0) if certain.any() else lab.mean(axis=(0, 1))
    plate = cv2.resize(plate, (width, height), interpolation=cv2.INTER_LINEAR)
    residual = np.linalg.norm(lab - plate, axis=2)[certain > 0]
    noise = float(np.percentile(residual, 90)) if residual.size else 1.0
    return plate, max(noise, 1.0)


def see_through_openings(mask: np.ndarray, difference: np.ndarray, noise: float) -> np.ndarray:
    """Openings inside a product through which the backdrop shows, which the network filled in.

    An opening is an island of backdrop-coloured pixels that the outside backdrop cannot reach (so a
    white mug's highlight, which runs out to the white sweep, is never one), whose rim is a real edge
    (a white print fades into the product's shading instead), and which is framed by the product's body
    rather than by a thin printed line on a backdrop-coloured surface (the inside of a printed "O"), and
    which matches the backdrop on average, not just roughly: through a hole the camera sees the backdrop
    itself, while a white print or glaze is a near miss, a little off in lightness or tint all over.
    """
    distance = np.linalg.norm(difference, axis=2)
    near = 2.0 * noise
    backdrop_like = distance < near
    count, labels, stats, _ = cv2.connectedComponentsWithStats(backdrop_like.astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    openings = np.zeros(mask.shape, bool)
    min_area = max(9, HOLE_MIN_SHARE * mask.size)
    line = max(3, round(max(mask.shape) / 200))  # wider than a printed stroke, narrower than a handle
    margin = 3 * line
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        if area < min_area or label in border:
            continue
        box = (slice(max(0, y - margin), y + h + margin), slice(max(0, x - margin), x + w + margin))
        island = labels[box] == label
        if np.count_nonzero(mask[box][island]) < 0.5 * area:
            continue  # already transparent
        rim = _ring(island, 0, line)
        beyond = _ring(island, line, 3 * line)
        framed_by_surface = np.mean(backdrop_like[box][beyond] & mask[box][beyond]) > 0.5
        bias = float(np.linalg.norm(difference[box][island].mean(axis=0)))
        if (np.median(distance[box][rim]) >= HOLE_EDGE_CONTRAST * near and not framed_by_surface
                and bias < HOLE_BIAS * noise):
            openings[box] |= cv2.dilate(island.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return openings & mask


def _ring(region: np.ndarray, inner: int, outer: int) -> np.ndarray:
    """Pixels more than `inner` and at most `outer` pixels outside `region`."""
    def grown(by: int) -> np.ndarray:
        if by == 0:
            return region
        return cv2.dilate(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                             (2 * by + 1, 2 * by + 1))) > 0
    return grown(outer) & ~grown(inner)


def decontaminate(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Take the backdrop's colour out of partly transparent pixels: F = (I - (1 - a) B) / a.

    B is the backdrop just outside the subject, F is kept within the colours of the subject just
    inside, so noise in a nearly transparent pixel cannot blow up into a bright speck.
    """
    edge = (alpha > 0.0) & (alpha < 1.0)
    if not edge.any():
        return rgb
    image = rgb.astype(np.float32)
    background = _spread_inwards(image, alpha < 0.02)
    foreground = _spread_inwards(image, alpha > 0.98)
    a = np.maximum(alpha, 0.05)[..., None]
    solved = (image - (1.0 - a) * background) / a
    low = np.minimum(foreground, image) - 8.0
    high = np.maximum(foreground, image) + 8.0
    out = image.copy()
    out[edge] = np.clip(solved, low, high)[edge]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _spread_inwards(image: np.ndarray, known: np.ndarray, sigma: float = 3.0) -> np.ndarray:
    """Local average colour of the `known` pixels, reaching a few pixels into the unknown ones."""
    weight = cv2.GaussianBlur(known.astype(np.float32), (0, 0), sigma)
    colour = cv2.GaussianBlur(image * known[..., None], (0, 0), sigma)
    return colour / np.maximum(weight, 1e-4)[..., None]


def estimate_background(rgb: np.ndarray) -> Background:
    """Median colour of a thin border strip, with the 90th percentile of distances as its spread."""
    strip = _border_strip(rgb.shape[:2])
    lab = to_lab(rgb)
    bg_lab = np.median(lab[strip], axis=0)
    bg_rgb = np.median(rgb[strip].astype(np.float32), axis=0)
    spread = float(np.percentile(np.linalg.norm(lab[strip] - bg_lab, axis=1), 90))
    return Background(rgb=bg_rgb, lab=bg_lab, spread=spread)


def keep_main_components(mask: np.ndarray, min_share: float = 0.1) -> np.ndarray:
    """Keep the largest blob and any blob at least `min_share` of its size; drop specks and stray bits.

    Pin-hole gaps inside kept blobs (under 0.1 % of the blob) are filled, since they are noise, while
    real openings such as a mug handle or the space between a character's arm and body stay open.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= min_share * areas.max())
    kept = np.isin(labels, keep)
    holes_count, hole_labels, hole_stats, _ = cv2.connectedComponentsWithStats(
        (~kept).astype(np.uint8), connectivity=4)
    small_holes = 1 + np.flatnonzero(hole_stats[1:, cv2.CC_STAT_AREA] < 0.001 * np.count_nonzero(kept))
    touching_border = np.unique(np.concatenate(
        [hole_labels[0], hole_labels[-1], hole_labels[:, 0], hole_labels[:, -1]]))
    fill = np.setdiff1d(small_holes, touching_border)
    return kept | np.isin(hole_labels, fill) if holes_count > 1 else kept


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask plus every region it fully encloses (anything the border cannot reach)."""
    outside = np.ones((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)  # a free ring around the frame
    outside[1:-1, 1:-1] = ~mask
    cv2.floodFill(outside, None, (0, 0), 2)
    return outside[1:-1, 1:-1] != 2


def _border_strip(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    size = max(2, round(0.03 * min(height, width)))
    strip = np.zeros(shape, bool)
    strip[:size], strip[-size:], strip[:, :size], strip[:, -size:] = True, True, True, True
    return strip


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab in real units (L 0..100), so distances mean the same whatever the colour."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
