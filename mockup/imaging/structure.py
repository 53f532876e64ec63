"""The structure check: how much of the product survived an IP change or an edit (shared/API.md,
`image.checks`).

Image models asked to swap a print or change one part also tend to redraw the rest: a handle goes, the
body widens, the colour drifts, the camera turns or steps back. The check aligns the result with its
source (OpenCV's ECC on small grey copies, started from a feature-matching homography when that finds
one), then scores three things outside the region that was meant to change, each 0..1:

- shape: the product's edges in the source are found again in the aligned result, and the result has
  no strong edges the source lacks;
- colour: CIEDE2000 distance of the smoothed colours, so a hue change counts even where lightness stays,
  and the brightness ratio, so a dark product relit counts too;
- framing: how far the alignment had to move the picture's corners. The few percent a model crops or
  scales to fit an aspect ratio are free; a turned, shrunk or reframed product is not.

The score is their product, so any one of them can reveal a change. The warning threshold and the
tolerances were calibrated on the generated pairs of tests/structure_pairs.py (docs/PERFORMANCE.md,
"Structure check"). Nothing here raises on odd input: an image that cannot be aligned scores 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from mockup.imaging import compose
from mockup.imaging.formats import flatten

WORK_SIDE = 256  # alignment and scoring run on copies this long: product shape needs no more
MIN_SIDE = 8  # an image smaller than this on either side has nothing to align
WARNING_BELOW = 0.85  # calibrated: docs/PERFORMANCE.md, "Structure check" (186 pairs: kept >= 0.979, changed <= 0.719)
EXCLUDE_GROWTH = 0.04  # the excluded region grows by this share of the long side (soft edges, glow)
CHARACTER_GROWTH = 0.15  # a new character may reach this share of the old print's size beyond it
EDGE_TOLERANCE_PX = 2  # at WORK_SIDE: an edge found this close in the other image still counts
STRONG_EDGE = 0.25  # share of the strongest edges (99th percentile) that makes an edge worth matching
WEAK_EDGE = 0.1  # ... and that is enough to match one
DELTA_E_KEPT, DELTA_E_CHANGED = 6.0, 14.0  # CIEDE2000: re-exposure stays below the first; recolours pass the second
LIGHT_KEPT, LIGHT_CHANGED = 1.12, 1.35  # brightness ratio: a re-exposure stays below the first
# The motion a model's fit to an aspect ratio explains (a crop and rescale of up to about 5 %); twice
# (MOTION_RAMP times) any of them and the product counts as reframed.
FREE_SCALE, FREE_STRETCH, FREE_TURN, FREE_SHIFT = 1.06, 1.06, 2.5, 0.035
MOTION_RAMP = 1.8
BACKDROP_TOLERANCE = 5.0  # Lab distance from the fitted backdrop at which a pixel is product
MIN_COMPARED_SHARE = 0.02  # fewer pixels left to compare than this share of the frame: cannot judge
START_SCALES = (0.95, 1.0, 1.05)  # axis scales tried for ECC's start (crops and rescales to fit a ratio)
MODEL_MARGIN = 0.003  # correlation a freer alignment model must gain per step (identity, affine, homography)
MIN_CORRELATION = 0.3  # below this no alignment was found: the images do not show the same thing
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)


@dataclass(frozen=True)
class StructureCheck:
    """The score (1 = product untouched), whether it is low enough to warn, and the parts it came from."""

    score: float
    warning: bool
    details: dict[str, float | bool | str] = field(default_factory=dict)


def structure_score(source: Image.Image, result: Image.Image,
                    exclude_mask: Image.Image | np.ndarray | None = None) -> StructureCheck:
    """Score how much of `source`'s product is still there in `result`, outside `exclude_mask` (white
    or True where the change was meant to happen, at the source's size). Sizes and modes may differ."""
    if min(source.size) < MIN_SIDE or min(result.size) < MIN_SIDE:
        return _failed("too small")
    src, res, size = _working_copies(source, result)
    keep = _comparison_area(src, exclude_mask, size)
    warp = _register(src, res, keep)
    if warp is None:
        return _failed("not aligned")
    aligned, inside = _warped(res, warp, size)
    compared = keep & inside
    if np.count_nonzero(compared) < MIN_COMPARED_SHARE * compared.size:
        return _failed("nothing left to compare")
    shape = _shape_kept(src, aligned, compared)
    colour = _colour_kept(src, aligned, compared)
    moved = motion(warp, _box(keep | _excluded(exclude_mask, size)), size)
    framing = _framing(moved)
    score = round(shape * colour * framing, 4)
    return StructureCheck(score, score < WARNING_BELOW, {
        "aligned": True, "shape": round(shape, 4), "colour": round(colour, 4), "framing": round(framing, 4),
        **{name: round(value, 4) for name, value in moved.items()},
    })


def character_region(source: Image.Image) -> np.ndarray:
    """Where the character sits on a product photo, for excluding it from an IP change's check: the
    detected print's box (or the box the local engine would place a character in), grown by
    CHARACTER_GROWTH on each side, at the source's size. A generous box rather than the print's outline,
    because the new character may have another shape and be drawn a little larger."""
    rgb = np.asarray(flatten(source))
    region = compose.detect_print_region(rgb)
    mask = np.zeros(rgb.shape[:2], bool)
    x0, y0, x1, y1 = region.box
    grow_x, grow_y = round(CHARACTER_GROWTH * (x1 - x0)), round(CHARACTER_GROWTH * (y1 - y0))
    mask[max(0, y0 - grow_y):max(0, y1 + grow_y), max(0, x0 - grow_x):max(0, x1 + grow_x)] = True
    return mask


def motion(warp: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int]) -> dict[str, float]:
    """How the alignment moves the product: at the centre of its box (x0, y0, x1, y1), the local
    scale, turn (degrees), stretch (one axis against the other) and shift (share of the frame's
    diagonal). Read at the product, because a perspective term that barely moves a small product can
    throw the frame's far corners anywhere."""
    x0, y0, x1, y1 = box
    centre = np.array([[[(x0 + x1) / 2, (y0 + y1) / 2]]], np.float32)
    step = 0.1 * max(x1 - x0, y1 - y0, 1)
    probe = centre + np.array([[[0, 0]], [[step, 0]], [[0, step]]], np.float32)
    moved = cv2.perspectiveTransform(probe.reshape(-1, 1, 2), warp.astype(np.float32)).reshape(3, 2)
    if not np.all(np.isfinite(moved)):
        return {"scale": float("inf"), "turn": 180.0, "stretch": float("inf"), "shift": float("inf")}
    jacobian = np.stack([moved[1] - moved[0], moved[2] - moved[0]], 1) / step
    singular = np.linalg.svd(jacobian, compute_uv=False)
    determinant = float(np.linalg.det(jacobian))
    return {
        "scale": float(np.sqrt(abs(determinant))),
        "turn": float(np.degrees(np.arctan2(jacobian[1, 0] - jacobian[0, 1], jacobian[0, 0] + jacobian[1, 1]))),
        "stretch": float(singular[0] / max(singular[1], 1e-6)) if determinant > 0 else float("inf"),
        "shift": float(np.linalg.norm(moved[0] - centre.reshape(2)) / np.hypot(*size)),
    }


def _framing(moved: dict[str, float]) -> float:
    """1 while every part of the motion is within what fitting an aspect ratio explains, falling to 0
    at MOTION_RAMP times that."""
    excess = max(abs(np.log(moved["scale"])) / np.log(FREE_SCALE), abs(moved["turn"]) / FREE_TURN,
                 np.log(moved["stretch"]) / np.log(FREE_STRETCH), moved["shift"] / FREE_SHIFT)
    return float(np.clip(1.0 - (excess - 1.0) / (MOTION_RAMP - 1.0), 0.0, 1.0))


def _failed(reason: str) -> StructureCheck:
    return StructureCheck(0.0, True, {"aligned": False, "reason": reason})


def _working_copies(source: Image.Image, result: Image.Image) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Both images as float32 RGB (0..255) of the source's shape at WORK_SIDE. The result is stretched
    to that frame: models answer at their nearest aspect ratio, and the few percent this stretches are
    left for the alignment to measure."""
    width, height = source.size
    scale = WORK_SIDE / max(width, height)
    size = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))

    def small(image: Image.Image) -> np.ndarray:
        return np.asarray(flatten(image).resize(size, Image.Resampling.BOX), np.float32)

    return small(source), small(result), size


def _comparison_area(src: np.ndarray, exclude_mask: Image.Image | np.ndarray | None,
                     size: tuple[int, int]) -> np.ndarray:
    """The product and a margin around its outline (or the whole frame for a scene), less the grown
    excluded region: a backdrop that is flat in both images says nothing about the product."""
    area = cv2.dilate(product_area(src).astype(np.uint8), _growth(size)) > 0
    return area & ~(cv2.dilate(_excluded(exclude_mask, size).astype(np.uint8), _growth(size)) > 0)


def _growth(size: tuple[int, int]) -> np.ndarray:
    grow = 2 * max(1, round(EXCLUDE_GROWTH * max(size))) + 1
    return np.ones((grow, grow), np.uint8)


def _excluded(exclude_mask: Image.Image | np.ndarray | None, size: tuple[int, int]) -> np.ndarray:
    """The excluded region at the working size (all False without one)."""
    if exclude_mask is None:
        return np.zeros((size[1], size[0]), bool)
    excluded = np.asarray(exclude_mask.convert("L") if isinstance(exclude_mask, Image.Image) else exclude_mask)
    return cv2.resize((excluded > 0).astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return 0, 0, mask.shape[1], mask.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def product_area(rgb: np.ndarray) -> np.ndarray:
    """The product on a studio backdrop: pixels that stand out from a smooth backdrop fitted to the
    frame's border (a plane in Lab, so a seamless's gradient is backdrop too). The whole frame when
    nothing or nearly everything stands out (a scene, or a product filling the picture)."""
    height, width = rgb.shape[:2]
    lab = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    y, x = np.mgrid[0:height, 0:width]
    design = np.stack([np.ones(x.size), x.ravel() / width, y.ravel() / height], 1)
    strip = max(2, round(0.04 * min(height, width)))
    border = np.zeros((height, width), bool)
    border[:strip], border[-strip:], border[:, :strip], border[:, -strip:] = True, True, True, True
    fit, *_ = np.linalg.lstsq(design[border.ravel()], lab[border.ravel()], rcond=None)
    distance = np.linalg.norm(lab - design @ fit, axis=1).reshape(height, width)
    spread = float(np.percentile(distance[border], 90))
    product = distance > max(BACKDROP_TOLERANCE, 2.0 * spread)
    share = np.count_nonzero(product) / product.size
    return product if 0.02 <= share <= 0.9 else np.ones((height, width), bool)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) / 255.0


def _register(src: np.ndarray, res: np.ndarray, keep: np.ndarray) -> np.ndarray | None:
    """The homography taking source coordinates to result coordinates, or None. ECC runs on smoothed
    edge maps, not grey levels: on a plain product over a graded backdrop, grey-level ECC settles on
    skewed fits that match the backdrop's shading instead of the product's outline.

    Candidates: the identity, ECC's affine fits from it and from `_fit_start`, ECC's
    homography refined from the better of those, and the feature-matched homography (when found) and
    ECC's refinement of it. On a plain product ECC can wander along flat
    areas with little gain, so a freer model must beat a simpler one by MODEL_MARGIN in correlation."""
    template, moving = _alignment_map(src), _alignment_map(res)
    grey_template, grey_moving = _grey(src), _grey(res)
    mask = keep.astype(np.uint8)
    identity = np.eye(3, dtype=np.float32)
    candidates = [(identity, 0)]
    affines = [_ecc(template, moving, start, cv2.MOTION_AFFINE, mask)
               for start in (identity, _fit_start(template, moving, grey_template, grey_moving, keep))]
    candidates += [(affine, 1) for affine in affines if affine is not None]
    affine = max((warp for warp, freedom in candidates if freedom == 1),
                 key=lambda warp: _correlation(grey_template, grey_moving, warp, keep), default=None)
    matched = _feature_homography(src, res, mask)
    if matched is not None:
        candidates.append((matched, 2))
    for start in (affine if affine is not None else identity, matched):
        refined = None if start is None else _ecc(template, moving, start, cv2.MOTION_HOMOGRAPHY, mask)
        if refined is not None:
            candidates.append((refined, 2))
    scored = [(_correlation(grey_template, grey_moving, warp, keep) - MODEL_MARGIN * freedom, warp)
              for warp, freedom in candidates]
    best_score, best = max(scored, key=lambda item: item[0])
    return best if best_score >= MIN_CORRELATION else None


def _fit_start(template: np.ndarray, moving: np.ndarray, grey_template: np.ndarray, grey_moving: np.ndarray,
               keep: np.ndarray) -> np.ndarray:
    """A start for ECC from which the moves a model's fit to an aspect ratio makes are in its reach: each
    scale of the axes in START_SCALES about the frame's centre, with the shift phase correlation of the
    edge maps then finds, kept if it correlates best. ECC alone reaches a few pixels; a 5 % stretch of
    a long straight edge moves it further."""
    height, width = template.shape
    best, best_score = np.eye(3, dtype=np.float32), -2.0
    for sx in START_SCALES:
        for sy in START_SCALES:
            centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]], np.float32)
            scale = centre @ np.diag([sx, sy, 1.0]).astype(np.float32) @ np.linalg.inv(centre)
            scaled = cv2.warpPerspective(moving, scale, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
            (dx, dy), _ = cv2.phaseCorrelate(template.astype(np.float64), scaled.astype(np.float64))
            warp = (scale @ np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float32)).astype(np.float32)
            score = _correlation(grey_template, grey_moving, warp, keep)
            if score > best_score:
                best, best_score = warp, score
    return best


def _ecc(template: np.ndarray, moving: np.ndarray, start: np.ndarray, motion: int,
         mask: np.ndarray) -> np.ndarray | None:
    """ECC's refinement of `start` as a 3x3 matrix, or None when it does not converge. It runs coarse
    to fine (half size first), which widens its reach from a few pixels to about ten."""
    half = np.diag([0.5, 0.5, 1.0]).astype(np.float32)
    small = [cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for image in (template, moving)]
    small_mask = cv2.resize(mask, (small[0].shape[1], small[0].shape[0]), interpolation=cv2.INTER_NEAREST)
    coarse = _ecc_step(*small, half @ start @ np.linalg.inv(half), motion, small_mask)
    begin = start if coarse is None else np.linalg.inv(half) @ coarse @ half
    return _ecc_step(template, moving, begin.astype(np.float32), motion, mask)


def _ecc_step(template: np.ndarray, moving: np.ndarray, start: np.ndarray, motion: int,
              mask: np.ndarray) -> np.ndarray | None:
    warp = start[:2].copy() if motion == cv2.MOTION_AFFINE else start.copy()
    try:
        _, warp = cv2.findTransformECC(template, moving, warp.astype(np.float32), motion, ECC_CRITERIA, mask, 1)
    except cv2.error:  # no gradient to follow, or the images do not overlap
        return None
    if motion == cv2.MOTION_AFFINE:
        warp = np.vstack([warp, [0, 0, 1]])
    warp = warp.astype(np.float32)
    return warp if np.all(np.isfinite(warp)) else None


def _correlation(template: np.ndarray, moving: np.ndarray, warp: np.ndarray, keep: np.ndarray) -> float:
    """Zero-mean normalised correlation of the two images' edge maps over the kept area, after warping
    the result. Edges rather than grey levels: a backdrop's smooth gradient would otherwise outweigh
    the product's outline in deciding which alignment is right."""
    aligned, inside = _warped(moving, warp, (template.shape[1], template.shape[0]))
    where = keep & inside
    if np.count_nonzero(where) < MIN_COMPARED_SHARE * where.size:
        return -1.0
    a, b = _gradient(template)[where], _gradient(aligned)[where]
    a, b = a - a.mean(), b - b.mean()
    spread = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / spread) if spread > 1e-9 else -1.0


def _warped(image: np.ndarray, warp: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The result warped into the source's frame, and where it has pixels of its own. The border is
    replicated and the valid area shrunk by the edge filters' reach, so the frame's edge is never
    mistaken for an edge of the product."""
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    aligned = cv2.warpPerspective(image, warp, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpPerspective(np.ones(image.shape[:2], np.uint8), warp, size,
                                 flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    return aligned, cv2.erode(inside, np.ones((9, 9), np.uint8)) > 0


def _alignment_map(rgb: np.ndarray) -> np.ndarray:
    """What ECC aligns: the edge strength, blurred (sigma 2 px) so its basin reaches a few pixels."""
    edges = _gradient(_grey(rgb))
    return cv2.GaussianBlur(edges / max(float(edges.max()), 1e-6), (0, 0), 2.0)


def _gradient(grey: np.ndarray) -> np.ndarray:
    """Gradient magnitude after a light blur (sigma 1 px at WORK_SIDE), which keeps grain out of it."""
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.0)
    return np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))


def _feature_homography(src: np.ndarray, res: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """SIFT features matched across the two images (Lowe's ratio test), RANSAC homography: an alignment
    that survives large moves, which ECC alone would not find from the identity."""
    detector = cv2.SIFT_create(nfeatures=600)
    points_a, described_a = detector.detectAndCompute(src.astype(np.uint8), mask * 255)
    points_b, described_b = detector.detectAndCompute(res.astype(np.uint8), None)
    if described_a is None or described_b is None or len(points_a) < 8 or len(points_b) < 8:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(described_a, described_b, k=2)
    good = [first for first, *rest in pairs if rest and first.distance < 0.8 * rest[0].distance]
    if len(good) < 8:
        return None
    a = np.float32([points_a[m.queryIdx].pt for m in good])
    b = np.float32([points_b[m.trainIdx].pt for m in good])
    warp, inliers = cv2.findHomography(a, b, cv2.RANSAC, 3.0)
    if warp is None or int(inliers.sum()) < 8:
        return None
    return warp.astype(np.float32)


def _edge_strength(rgb: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Gradient magnitude of lightness after a light blur, scaled by its 99th percentile over the
    compared area, so a change of exposure or contrast (or a bold print left out) does not change which
    edges count."""
    magnitude = _gradient(_grey(rgb))
    return magnitude / max(float(np.percentile(magnitude[area], 99)), 1e-3)


def _shape_kept(src: np.ndarray, aligned: np.ndarray, area: np.ndarray) -> float:
    """The worse of two shares: the source's strong edges that have at least a weak edge nearby in the
    result (lost parts), and the result's strong edges with one nearby in the source (added parts)."""
    a, b = _edge_strength(src, area), _edge_strength(aligned, area)
    reach = np.ones((2 * EDGE_TOLERANCE_PX + 1,) * 2, np.uint8)
    near_a, near_b = cv2.dilate(a, reach), cv2.dilate(b, reach)

    def found(strong: np.ndarray, other_near: np.ndarray) -> float:
        wanted = (strong >= STRONG_EDGE) & area
        total = np.count_nonzero(wanted)
        return 1.0 if total == 0 else np.count_nonzero(wanted & (other_near >= WEAK_EDGE)) / total

    return float(min(found(a, near_b), found(b, near_a)))


def _colour_kept(src: np.ndarray, aligned: np.ndarray, area: np.ndarray) -> float:
    """Mean over the area of how close each smoothed pixel's colour stays: 1 below DELTA_E_KEPT in
    CIEDE2000, 0 beyond DELTA_E_CHANGED, and likewise for its brightness ratio, which catches a dark
    product relit (CIEDE2000 differences are small among dark colours). Smoothing first keeps grain and
    a pixel of misalignment out of it."""
    def smooth(rgb: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(rgb, (0, 0), 2.0) / 255.0

    a, b = smooth(src), smooth(aligned)
    distance = delta_e_2000(cv2.cvtColor(a, cv2.COLOR_RGB2LAB)[area], cv2.cvtColor(b, cv2.COLOR_RGB2LAB)[area])
    hue_kept = np.clip((DELTA_E_CHANGED - distance) / (DELTA_E_CHANGED - DELTA_E_KEPT), 0.0, 1.0)
    ratio = np.abs(np.log((cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)[area] + 0.03)
                          / (cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)[area] + 0.03)))
    light_kept = np.clip((np.log(LIGHT_CHANGED) - ratio) / np.log(LIGHT_CHANGED / LIGHT_KEPT), 0.0, 1.0)
    kept = np.minimum(hue_kept, light_kept)
    return float(kept.mean()) if kept.size else 1.0


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of two (..., 3) arrays of CIE Lab (Sharma, Wu and Dalal 2005).
    Written out because the libraries that vectorise it (scikit-image, colour-science) would bring
    SciPy along for one formula."""
    l1, a1, b1 = np.moveaxis(lab1.astype(np.float64), -1, 0)
    l2, a2, b2 = np.moveaxis(lab2.astype(np.float64), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = h2 - h1
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1 * c2 == 0, 0.0, dh)
    d_l, d_c = l2 - l1, c2 - c1
    d_h = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_bar = (l1 + l2) / 2, (c1 + c2) / 2
    h_sum = h1 + h2
    h_bar = np.where(np.abs(h1 - h2) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_bar = np.where(c1 * c2 == 0, h_sum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    r_t = (-2 * np.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7))
           * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    return np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))
