"""Generated source/result pairs for calibrating and testing the structure check
(mockup/imaging/structure.py): realistic product shots (mugs, acrylic stands, boxes, plush toys) with
shading, a contact shadow, a print, grain and JPEG, rendered twice.

A "kept" pair is the same product re-rendered as a model that respected it would: other exposure, white
balance, grain or JPEG quality, a crop and rescale of 2-5 % to fit an aspect ratio, a different
character on the print. A "changed" pair changes the product itself: reshaped (handle removed, body
widened), recoloured at equal lightness, turned or seen in perspective, shrunk or moved, relit. Every
pair is deterministic. bench/structure_bench.py prints the separation these pairs give.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from io import BytesIO

import cv2
import numpy as np
from PIL import Image

KINDS = ("mug", "stand", "box", "plush")


@dataclass(frozen=True)
class Scene:
    """One product shot: what is photographed (kind, colour, shape, print) and how (light, camera,
    the picture's grain and compression)."""

    kind: str
    body: tuple[int, int, int]
    backdrop: tuple[int, int, int] = (242, 242, 240)
    size: tuple[int, int] = (512, 512)
    scale: float = 1.0  # product size relative to its usual framing
    centre: tuple[float, float] = (0.5, 0.52)
    widen: float = 1.0
    handle: bool = True
    handle_side: int = 1  # 1: right, -1: left (the mug turned round)
    character: int = 0  # which print design; -1 for none
    light: float = -0.5  # where the key light comes from across the product: -1 left .. 1 right
    light_level: float = 1.0
    light_tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    noise: float = 3.0
    seed: int = 0
    jpeg: int | None = 92
    hue_shift: float = 0.0  # degrees the product's colours turn in Lab's a/b plane, lightness kept
    rotate: float = 0.0  # camera roll, degrees
    perspective: float = 0.0  # camera tilt: the frame's top edge narrows by this share
    crop: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # left, top, right, bottom shares cut off
    keep_crop_size: bool = False  # a crop stays at its own size (another aspect ratio) instead of scaled back


def render(scene: Scene) -> Image.Image:
    """The product shot as an RGB image."""
    width, height = scene.size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    backdrop = _backdrop(scene, x, y)
    mask, shade, parts = _product(scene, x, y)
    body = np.array(scene.body, np.float32) * shade[..., None]
    body = _with_print(scene, body, parts, shade)
    if scene.hue_shift:
        body = _turn_hue(body, scene.hue_shift)
    rgb = backdrop * (1 - mask[..., None]) + body * mask[..., None]
    rgb = rgb * np.array(scene.light_tint, np.float32) * scene.exposure * np.array(scene.white_balance, np.float32)
    rgb = _camera(scene, rgb)
    rgb = rgb + np.random.default_rng(scene.seed).normal(0, scene.noise, rgb.shape)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return _jpeg(image, scene.jpeg) if scene.jpeg else image


def print_box(scene: Scene) -> tuple[int, int, int, int]:
    """The print's box in pixels (x0, y0, x1, y1): the region an IP change is allowed to change."""
    cx, cy, w, h = _frame(scene)
    pw, ph = _print_size(scene, w, h)
    px, py = _print_centre(scene, cx, cy, w, h)
    width, height = scene.size
    return (max(0, round(px - pw)), max(0, round(py - ph)), min(width, round(px + pw)), min(height, round(py + ph)))


def print_mask(scene: Scene) -> Image.Image:
    mask = Image.new("L", scene.size, 0)
    mask.paste(255, print_box(scene))
    return mask


def _frame(scene: Scene) -> tuple[float, float, float, float]:
    """The product's centre and half sizes in pixels."""
    width, height = scene.size
    unit = min(width, height) * scene.scale
    half_w = {"mug": 0.2, "stand": 0.17, "box": 0.22, "plush": 0.2}[scene.kind] * unit * scene.widen
    half_h = {"mug": 0.26, "stand": 0.32, "box": 0.2, "plush": 0.3}[scene.kind] * unit
    return scene.centre[0] * width, scene.centre[1] * height, half_w, half_h


def _backdrop(scene: Scene, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A studio seamless: slightly darker towards the bottom, with a soft contact shadow under the product."""
    height = scene.size[1]
    cx, cy, w, h = _frame(scene)
    gradient = 1.0 - 0.06 * (y / height)
    shadow = np.exp(-(((x - cx) / (1.2 * w)) ** 2 + ((y - (cy + h)) / (0.12 * h + 4)) ** 2))
    level = gradient * (1.0 - 0.25 * shadow) * (0.9 + 0.1 * scene.light_level)
    return np.array(scene.backdrop, np.float32) * level[..., None]


def _lit(nx: np.ndarray, scene: Scene) -> np.ndarray:
    """Lambert-like shading across a round surface (nx: -1..1 across it), lit from `scene.light`."""
    facing = np.sqrt(np.clip(1 - nx ** 2, 0, 1))
    light = np.array([scene.light, 0.0, np.sqrt(max(0.0, 1 - scene.light ** 2))])
    diffuse = np.clip(nx * light[0] + facing * light[2], 0, 1)
    return (0.35 + 0.65 * diffuse) * scene.light_level


def _product(scene: Scene, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """The product's soft mask (0..1), its shading, and the masks of its parts."""
    cx, cy, w, h = _frame(scene)
    return {"mug": _mug, "stand": _stand, "box": _box, "plush": _plush}[scene.kind](scene, x, y, cx, cy, w, h)


def _soft(mask: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)


def _mug(scene, x, y, cx, cy, w, h):
    nx = np.clip((x - cx) / w, -1, 1)
    rim = 0.18 * w
    body = (np.abs(x - cx) <= w) & (y >= cy - h) & (y <= cy + h - rim * np.sqrt(np.clip(1 - nx ** 2, 0, 1)) + rim)
    top = ((x - cx) / w) ** 2 + ((y - (cy - h)) / rim) ** 2 <= 1
    opening = ((x - cx) / (0.92 * w)) ** 2 + ((y - (cy - h)) / (0.8 * rim)) ** 2 <= 1
    shade = _lit(nx, scene)
    shade = np.where(opening, 0.55 * scene.light_level, shade)
    mask = body | top
    if scene.handle:
        hx = cx + scene.handle_side * 1.12 * w
        ring = ((x - hx) / (0.42 * w)) ** 2 + ((y - cy) / (0.5 * h)) ** 2
        handle = (ring <= 1) & (ring >= 0.45) & (scene.handle_side * (x - cx) > w * 0.9)
        shade = np.where(handle & ~body, 0.75 * _lit(np.clip((x - hx) / (0.42 * w), -1, 1), scene), shade)
        mask = mask | handle
    return _soft(mask), shade, {"face": body & ~top}


def _stand(scene, x, y, cx, cy, w, h):
    base_y = cy + h
    base = ((x - cx) / (1.15 * w)) ** 2 + ((y - base_y) / (0.16 * h)) ** 2 <= 1
    panel = (np.abs(x - cx) <= w) & (y >= cy - h) & (y <= base_y)
    corner = 0.3 * w
    rounded = ~((np.abs(x - cx) > w - corner) & (y < cy - h + corner)
                & (((np.abs(x - cx) - (w - corner)) ** 2 + (y - (cy - h + corner)) ** 2) > corner ** 2))
    panel &= rounded
    shade = 0.85 + 0.15 * (1 - (y - (cy - h)) / (2 * h)) * (0.5 + 0.5 * scene.light)
    shade = np.where(base & ~panel, 0.7 * _lit(np.clip((x - cx) / (1.15 * w), -1, 1), scene), shade * scene.light_level)
    return _soft(panel | base), shade, {"face": panel}


def _box(scene, x, y, cx, cy, w, h):
    depth = 0.35 * w
    front = (np.abs(x - cx) <= w) & (np.abs(y - cy) <= h)
    top = (y < cy - h) & (y >= cy - h - depth) & (x >= cx - w + (cy - h - y)) & (x <= cx + w + (cy - h - y))
    side = (x > cx + w) & (x <= cx + w + depth) & (y <= cy + h - (x - cx - w)) & (y >= cy - h - (x - cx - w))
    level = scene.light_level
    key = 0.5 + 0.5 * scene.light  # the side face is bright when the light comes from the right
    shade = np.where(top, 1.0, np.where(side, 0.45 + 0.4 * key, 0.8 - 0.1 * scene.light)) * level
    return _soft(front | top | side), shade.astype(np.float32), {"face": front}


def _plush(scene, x, y, cx, cy, w, h):
    rng = np.random.default_rng(11)  # the plush's own fur: the same on every render of it
    body = ((x - cx) / w) ** 2 + ((y - (cy + 0.3 * h)) / (0.7 * h)) ** 2 <= 1
    head = ((x - cx) / (0.75 * w)) ** 2 + ((y - (cy - 0.55 * h)) / (0.45 * h)) ** 2 <= 1
    ears = np.zeros_like(body)
    for side in (-1, 1):
        ears |= ((x - (cx + side * 0.55 * w)) / (0.22 * w)) ** 2 + ((y - (cy - 0.95 * h)) / (0.18 * h)) ** 2 <= 1
    fur = cv2.GaussianBlur(rng.normal(0, 1, x.shape).astype(np.float32), (0, 0), 1.2)
    mask = _soft(body | head | ears, 2.0)
    mask = np.clip((mask - 0.5) * 3 + 0.5 + 0.3 * fur, 0, 1)  # fuzzy outline
    shade = _lit(np.clip((x - cx) / w, -1, 1), scene) * (1 + 0.06 * fur)
    return mask, shade, {"face": body}


def _print_size(scene: Scene, w: float, h: float) -> tuple[float, float]:
    return (0.5 * w, 0.5 * w) if scene.kind != "stand" else (0.75 * w, 0.75 * w)


def _print_centre(scene: Scene, cx: float, cy: float, w: float, h: float) -> tuple[float, float]:
    return cx, cy + (0.35 * h if scene.kind == "plush" else -0.1 * h if scene.kind == "stand" else 0.05 * h)


def _with_print(scene: Scene, body: np.ndarray, parts: dict, shade: np.ndarray) -> np.ndarray:
    """Print a character design on the product's face, shaded like the surface."""
    if scene.character < 0:
        return body
    height, width = body.shape[:2]
    cx, cy, w, h = _frame(scene)
    pw, ph = _print_size(scene, w, h)
    px, py = _print_centre(scene, cx, cy, w, h)
    art = np.zeros((height, width), np.uint8)
    colours = np.zeros((height, width, 3), np.float32)
    for shape, colour in _design(scene.character, px, py, pw, ph):
        layer = np.zeros_like(art)
        shape(layer)
        colours[layer > 0] = colour
        art |= layer
    inside = _soft((art > 0) & parts["face"], 0.7)[..., None]
    return body * (1 - inside) + colours * shade[..., None] * inside


def _design(index: int, px: float, py: float, pw: float, ph: float):
    """A few flat character prints: a cat face, a bear, a star, a smiling sun."""
    c = (round(px), round(py))
    r = round(0.8 * min(pw, ph))
    designs = [
        [(lambda m: cv2.circle(m, c, r, 255, -1), (235, 140, 40)),
         (lambda m: cv2.fillPoly(m, [np.int32([[c[0] - r, c[1] - r // 3], [c[0] - r // 2, c[1] - 2 * r + r // 3],
                                              [c[0], c[1] - r]])], 255), (235, 140, 40)),
         (lambda m: cv2.circle(m, (c[0] - r // 3, c[1] - r // 5), r // 6, 255, -1), (30, 30, 30)),
         (lambda m: cv2.circle(m, (c[0] + r // 3, c[1] - r // 5), r // 6, 255, -1), (30, 30, 30))],
        [(lambda m: cv2.circle(m, c, r, 255, -1), (120, 80, 50)),
         (lambda m: cv2.circle(m, (c[0] - r, c[1] - r), r // 2, 255, -1), (120, 80, 50)),
         (lambda m: cv2.circle(m, (c[0] + r, c[1] - r), r // 2, 255, -1), (120, 80, 50)),
         (lambda m: cv2.ellipse(m, (c[0], c[1] + r // 3), (r // 2, r // 3), 0, 0, 360, 255, -1), (230, 200, 160))],
        [(lambda m: cv2.fillPoly(m, [_star(c, r)], 255), (240, 200, 30))],
        [(lambda m: cv2.circle(m, c, int(r * 0.8), 255, -1), (250, 170, 30)),
         (lambda m: cv2.ellipse(m, c, (r // 2, r // 3), 0, 20, 160, 255, max(2, r // 10)), (150, 40, 40))],
    ]
    return designs[index % len(designs)]


def _star(c: tuple[int, int], r: int) -> np.ndarray:
    angles = np.linspace(-np.pi / 2, 1.5 * np.pi, 11)[:-1]
    radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    return np.int32(np.stack([c[0] + radii * np.cos(angles), c[1] + radii * np.sin(angles)], 1))


def _turn_hue(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate colours in Lab's a/b plane: the same lightness and chroma, another hue."""
    lab = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    angle = np.radians(degrees)
    a, b = lab[..., 1].copy(), lab[..., 2].copy()
    lab[..., 1], lab[..., 2] = a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0


def _camera(scene: Scene, rgb: np.ndarray) -> np.ndarray:
    """Roll, tilt and crop the picture, as another camera position or a model's reframing would."""
    height, width = rgb.shape[:2]
    if scene.rotate or scene.perspective:
        corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        inset = scene.perspective * width / 2
        tilted = np.float32([[inset, 0], [width - inset, 0], [width, height], [0, height]])
        warp = cv2.getPerspectiveTransform(corners, tilted)
        roll = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), scene.rotate, 1.0), [0, 0, 1]])
        rgb = cv2.warpPerspective(rgb.astype(np.float32), roll @ warp, (width, height), borderMode=cv2.BORDER_REPLICATE)
    left, top, right, bottom = scene.crop
    if any(scene.crop):
        x0, y0 = round(left * width), round(top * height)
        x1, y1 = width - round(right * width), height - round(bottom * height)
        rgb = rgb[y0:y1, x0:x1]
        if not scene.keep_crop_size:
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_CUBIC)
    return rgb


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


@dataclass(frozen=True)
class Pair:
    name: str
    source: Scene
    result: Scene
    kept: bool  # True: the product survived; False: it changed


BASES: tuple[Scene, ...] = (
    Scene("mug", body=(246, 246, 243)),  # the white mug on white: the hardest and most common shot
    Scene("mug", body=(30, 45, 95), backdrop=(225, 225, 228), character=1, light=0.4),
    Scene("stand", body=(235, 238, 240), backdrop=(200, 205, 212), character=2, size=(480, 600)),
    Scene("box", body=(200, 60, 50), character=3, size=(640, 480)),
    Scene("plush", body=(225, 190, 140), backdrop=(236, 236, 236), character=2, handle=False),
    Scene("box", body=(80, 150, 90), backdrop=(230, 228, 220), character=0, light=0.6),
)

KEPT_CHANGES: dict[str, dict] = {
    "re-render": {"seed": 1},
    "brighter": {"exposure": 1.07, "seed": 2},
    "darker": {"exposure": 0.93, "seed": 3},
    "warmer": {"white_balance": (1.04, 1.0, 0.95), "seed": 4},
    "cooler": {"white_balance": (0.96, 1.0, 1.04), "seed": 5},
    "grainy": {"noise": 6.0, "seed": 6},
    "jpeg 70": {"jpeg": 70, "seed": 7},
    "crop 3% right": {"crop": (0.0, 0.0, 0.03, 0.0)},
    "crop 2% all round": {"crop": (0.02, 0.02, 0.02, 0.02)},
    "crop 5% centred": {"crop": (0.025, 0.025, 0.025, 0.025)},
    "crop 5% to 4:3": {"crop": (0.0, 0.025, 0.0, 0.025), "keep_crop_size": True},
    "crop 4% top, rescaled": {"crop": (0.02, 0.04, 0.0, 0.0)},
    "crop 5% right, rescaled": {"crop": (0.0, 0.0, 0.05, 0.0)},
    "crop 5% from a corner, rescaled": {"crop": (0.05, 0.05, 0.0, 0.0)},
    "other character": {"character": "next"},
    "other character, brighter, cropped": {"character": "next", "exposure": 1.05, "crop": (0.02, 0.0, 0.02, 0.0)},
}

CHANGED_CHANGES: dict[str, dict] = {
    "body widened 20%": {"widen": 1.2},
    "body widened 35%": {"widen": 1.35},
    "turned 5 degrees": {"rotate": 5.0},
    "turned 8 degrees": {"rotate": 8.0},
    "turned 15 degrees": {"rotate": -15.0},
    "perspective": {"perspective": 0.25},
    "shrunk 10%": {"scale": 0.9},
    "shrunk 15%": {"scale": 0.85},
    "shrunk 35%": {"scale": 0.65},
    "moved aside": {"centre": (0.38, 0.5)},
    "zoomed in 20%": {"scale": 1.2},
    "relit from the other side, dim": {"light": 0.9, "light_level": 0.6},
    "relit warm and dark": {"light_tint": (1.0, 0.8, 0.6), "light_level": 0.75},
}
HUE_CHANGES: dict[str, dict] = {  # only for coloured products: a white one has no hue to turn
    "hue +60": {"hue_shift": 60.0},
    "hue 180": {"hue_shift": 180.0},
}
MUG_CHANGES: dict[str, dict] = {
    "handle removed": {"handle": False},
    "handle on the other side": {"handle_side": -1},
}


def _apply(base: Scene, change: dict) -> Scene:
    values = dict(change)
    if values.get("character") == "next":
        values["character"] = (base.character + 1) % 4
    return replace(base, **values)


def _chroma(rgb: tuple[int, int, int]) -> float:
    lab = cv2.cvtColor(np.float32([[rgb]]) / 255.0, cv2.COLOR_RGB2LAB)[0, 0]
    return float(np.hypot(lab[1], lab[2]))


def pairs() -> list[Pair]:
    """Every calibration pair: each base product with every kept and every changed variation."""
    out = []
    for number, base in enumerate(BASES):
        label = f"{number}:{base.kind}"
        changed = dict(CHANGED_CHANGES, **(MUG_CHANGES if base.kind == "mug" else {}),
                       **(HUE_CHANGES if _chroma(base.body) > 20 else {}))
        out += [Pair(f"{label} {name}", base, _apply(base, change), True) for name, change in KEPT_CHANGES.items()]
        out += [Pair(f"{label} {name}", base, _apply(base, change), False) for name, change in changed.items()]
    return out
