"""Offline retouching of a masked region (the local engine's region edit): recolouring what it selects,
or painting out what is there. Removal may touch pixels just outside the mask; the job's composite
(regions.composite_edit) is what confines every change to the region. Alpha, when the
image has it, passes through unchanged.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
from PIL import Image

from mockup.imaging.compose import DETECT_SIDE, feather, product_silhouette
from mockup.imaging.regions import selected

MIN_OBJECT_SHARE = 0.15  # a box with less product than this share is about what is behind it
HOLE_GROWTH_PX = 2  # the hole painted out reaches past the mask, so an object's soft edge goes with it


def recolour(image: Image.Image, mask: Image.Image, target: tuple[int, int, int], *,
             keep_lightness: bool) -> Image.Image:
    """Move the colour of what the mask selects (`object_in`) to `target` in CIE Lab, keeping each
    pixel's offset from their mean, so shading, highlights and texture survive the new colour; pixels
    around it keep theirs. With keep_lightness only hue and chroma change (a tint rather than a repaint)."""
    def shift(rgb: np.ndarray) -> np.ndarray:
        weight = object_in(rgb, selected(mask))
        lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        wanted = cv2.cvtColor(np.array([[target]], np.float32) / 255.0, cv2.COLOR_RGB2LAB)[0, 0]
        offset = wanted - np.average(lab.reshape(-1, 3), axis=0, weights=weight.ravel())
        if keep_lightness:
            offset[0] = 0.0
        moved = cv2.cvtColor(lab + offset * weight[..., None], cv2.COLOR_LAB2RGB)
        return np.clip(np.rint(moved * 255.0), 0, 255).astype(np.uint8)

    return _on_rgb(image, shift)


def object_in(rgb: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Recolour weights (0..1): the painted region as painted; a box, which is only a rough selection,
    narrowed to the product's own pixels in it (the backdrop stays), unless the box holds almost no
    product, when the box itself is what the user wants changed (a backdrop, a scene)."""
    if not _is_box(inside):
        return inside.astype(np.float32)
    height, width = inside.shape
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    product = cv2.resize(product_silhouette(small).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    narrowed = feather(product, 1.0) * inside
    return narrowed if narrowed.sum() >= MIN_OBJECT_SHARE * np.count_nonzero(inside) else inside.astype(np.float32)


def _is_box(inside: np.ndarray) -> bool:
    ys, xs = np.nonzero(inside)
    return xs.size > 0 and xs.size == (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)


def remove(image: Image.Image, mask: Image.Image, *, navier_stokes: bool, radius: int) -> Image.Image:
    """Paint out what is inside the mask from its surroundings with OpenCV's inpainting: Telea's fast
    marching method, or the Navier-Stokes one, which carries edges further into the hole."""
    grow = 2 * HOLE_GROWTH_PX + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
    hole = cv2.dilate(selected(mask).astype(np.uint8) * 255, disc)
    method = cv2.INPAINT_NS if navier_stokes else cv2.INPAINT_TELEA
    return _on_rgb(image, lambda rgb: cv2.inpaint(np.ascontiguousarray(rgb), hole, radius, method))


def _on_rgb(image: Image.Image, change: Callable[[np.ndarray], np.ndarray]) -> Image.Image:
    """Apply `change` to the colour channels (uint8 H x W x 3) and put any alpha back unchanged."""
    if image.mode == "RGBA":
        rgba = np.asarray(image)
        return Image.fromarray(np.dstack([change(rgba[:, :, :3]), rgba[:, :, 3]]), "RGBA")
    return Image.fromarray(change(np.asarray(image.convert("RGB"))), "RGB")
