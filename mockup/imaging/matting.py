"""Cutting a subject out of its background without a neural network.

Character art and product shots are usually on a plain studio or paper background, so the border tells
us the background colour. That seeds OpenCV's GrabCut on a small copy (fast), and the edge is then
re-estimated at full resolution from the known background and nearby foreground colours, which keeps the
silhouette sharp and its anti-aliased pixels partially transparent. Everything is deterministic: the
same image always gives the same alpha.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

WORK_SIDE = 320  # GrabCut is O(pixels x iterations); 320 px keeps it around 100 ms
GRABCUT_ITERATIONS = 4
GRABCUT_SEED = 0x5EED  # GrabCut's k-means draws from OpenCV's RNG; a fixed seed keeps results stable
UNIFORM_BACKGROUND_SPREAD = 25.0  # border colour spread (Lab units) beyond which the border is a scene
MIN_CONTRAST = 24.0  # foreground/background RGB distance below which colour cannot tell them apart
EDGE_SOFTNESS_SIGMA = 0.7  # px; turns the last hard steps of the edge into partial transparency


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
    alpha = foreground_alpha(rgb, fill_enclosed=fill_enclosed)
    out = np.dstack([rgb, np.rint(alpha * 255).astype(np.uint8)])
    return Image.fromarray(out, "RGBA")


def has_meaningful_alpha(image: Image.Image) -> bool:
    """True when at least half a percent of the pixels are visibly transparent."""
    if "A" not in image.getbands():
        return False
    alpha = np.asarray(image.getchannel("A"))
    return bool(np.count_nonzero(alpha < 250) >= 0.005 * alpha.size)


def foreground_alpha(rgb: np.ndarray, *, fill_enclosed: bool = False) -> np.ndarray:
    """Alpha (float32, 0..1) of the subject in an RGB array, at the array's own resolution."""
    height, width = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1.0 else rgb
    background = estimate_background(small)
    mask = _grabcut(small, background)
    mask = keep_main_components(mask)
    if np.count_nonzero(mask) < 0.01 * mask.size:
        return np.ones((height, width), np.float32)
    if fill_enclosed:
        mask = fill_holes(mask)
    alpha = _refine_edge(rgb, mask, background)
    return cv2.GaussianBlur(alpha, (0, 0), EDGE_SOFTNESS_SIGMA)


def estimate_background(rgb: np.ndarray) -> Background:
    """Median colour of a thin border strip, with the 90th percentile of distances as its spread."""
    strip = _border_strip(rgb.shape[:2])
    lab = _lab(rgb)
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


def _grabcut(rgb: np.ndarray, background: Background) -> np.ndarray:
    """Seed GrabCut from the border colour and return the foreground as a boolean mask."""
    seeds = _seed_mask(rgb, background)
    if not np.any((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)):
        return np.zeros(seeds.shape, bool)
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(GRABCUT_SEED)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    try:
        cv2.grabCut(bgr, seeds, None, bgd_model, fgd_model, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        # GrabCut refuses seeds without both classes; the seeds themselves are then the best answer.
        pass
    return (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)


def _seed_mask(rgb: np.ndarray, background: Background) -> np.ndarray:
    """Background-coloured pixels are probable background, the rest probable foreground.

    The border itself is certain background where it has the background colour, and pixels far from
    that colour are certain foreground. On a busy border (a scene, not a backdrop) colour says nothing,
    so only the border is marked and GrabCut works like its rectangle mode.
    """
    seeds = np.full(rgb.shape[:2], cv2.GC_PR_FGD, np.uint8)
    strip = _border_strip(rgb.shape[:2])
    if not background.uniform:
        seeds[strip] = cv2.GC_BGD
        return seeds
    distance = np.linalg.norm(_lab(rgb) - background.lab, axis=2)
    near = max(6.0, 3.0 * background.spread)
    far = max(3.0 * near, 35.0)
    seeds[distance < near] = cv2.GC_PR_BGD
    seeds[distance > far] = cv2.GC_FGD
    seeds[strip & (distance < near)] = cv2.GC_BGD
    return seeds


def _refine_edge(rgb: np.ndarray, small_mask: np.ndarray, background: Background) -> np.ndarray:
    """Upsample the coarse mask and solve the edge band at full resolution.

    In the band each pixel is modelled as a mix of the background colour B and the nearby foreground
    colour F; alpha is the projection of (I - B) onto (F - B). Where F and B are too alike to tell
    apart, or the background is not uniform, the upsampled mask is kept.
    """
    height, width = rgb.shape[:2]
    coarse = cv2.resize(small_mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = (coarse >= 0.5).astype(np.float32)
    if not background.uniform:
        return alpha
    radius = max(2, int(np.ceil(width / small_mask.shape[1])) + 1)
    band = (coarse > 0.0) & (coarse < 1.0)
    band = cv2.dilate(band.astype(np.uint8), np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)) > 0
    if not band.any():
        return alpha
    foreground = _local_foreground_colour(rgb, small_mask)[band]
    pixels = rgb[band].astype(np.float32)
    direction = foreground - background.rgb
    length2 = np.einsum("ij,ij->i", direction, direction)
    projected = np.einsum("ij,ij->i", pixels - background.rgb, direction) / np.maximum(length2, 1.0)
    solved = np.clip(projected, 0.0, 1.0)
    alpha[band] = np.where(length2 >= MIN_CONTRAST**2, solved, alpha[band])
    return alpha


def _local_foreground_colour(rgb: np.ndarray, small_mask: np.ndarray) -> np.ndarray:
    """Average foreground colour near every pixel, from the eroded coarse mask (full-res float32 RGB)."""
    height, width = rgb.shape[:2]
    inner = cv2.erode(small_mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
    if not inner.any():
        inner = small_mask.astype(np.float32)
    small_rgb = cv2.resize(rgb, small_mask.shape[::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
    kernel = (0, 0)
    weight = cv2.GaussianBlur(inner, kernel, 3.0)
    colour = cv2.GaussianBlur(small_rgb * inner[..., None], kernel, 3.0) / np.maximum(weight, 1e-4)[..., None]
    return cv2.resize(colour, (width, height), interpolation=cv2.INTER_LINEAR)


def _border_strip(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    size = max(2, round(0.03 * min(height, width)))
    strip = np.zeros(shape, bool)
    strip[:size], strip[-size:], strip[:, :size], strip[:, -size:] = True, True, True, True
    return strip


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab in real units (L 0..100), so distances mean the same whatever the colour."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


# --- character art (branch fidelity-ui): the lead keeps the `fidelity` branch's version at merge ---
def cut_out_character(image: Image.Image) -> Image.Image:
    """Character art as RGBA with a transparent background, keeping every area its outline encloses
    (white eyes, belly, teeth), which a product cut-out would punch through."""
    return cut_out(image, fill_enclosed=True)
