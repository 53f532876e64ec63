"""Offline retouching of a masked region (the local engine's region edit): recolouring it, or painting
out what is there. Both work on the whole image and may touch pixels outside the mask a little; the
job's composite (regions.composite_edit) is what confines the change to the region. Alpha, when the
image has it, passes through unchanged.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
from PIL import Image

from mockup.imaging.regions import selected

HOLE_GROWTH_PX = 2  # the hole painted out reaches past the mask, so an object's soft edge goes with it


def recolour(image: Image.Image, mask: Image.Image, target: tuple[int, int, int], *,
             keep_lightness: bool) -> Image.Image:
    """Move the region's colour to `target` in CIE Lab, keeping each pixel's offset from the region's
    mean, so shading, highlights and texture survive the new colour. With keep_lightness the region
    keeps its own lightness and only its hue and chroma change (a tint rather than a repaint)."""
    inside = selected(mask)

    def shift(rgb: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        wanted = cv2.cvtColor(np.array([[target]], np.float32) / 255.0, cv2.COLOR_RGB2LAB)[0, 0]
        offset = wanted - lab[inside].mean(axis=0)
        if keep_lightness:
            offset[0] = 0.0
        moved = cv2.cvtColor(lab + offset, cv2.COLOR_LAB2RGB)
        return np.clip(np.rint(moved * 255.0), 0, 255).astype(np.uint8)

    return _on_rgb(image, shift)


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
