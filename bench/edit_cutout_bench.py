"""Benchmark: what a region edit adds on top of the engine call, and the cut-out of a 2K image
(issue 4: "edit round trip overhead" and "cut-out time for a 2K image").

Edit overhead = everything execution does around `engine.edit` for one job of two candidates: build the
mask, mark the region, composite both answers into the original, encode both PNGs and thumbnails. The
engine itself is replaced by returning a slightly changed copy, so only our own work is timed.

    .venv/bin/python bench/edit_cutout_bench.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import row, timed  # noqa: E402
from mockup.imaging import regions  # noqa: E402
from mockup.imaging.formats import encode, thumbnail  # noqa: E402
from mockup.imaging.matting import cut_out  # noqa: E402


def product_shot(side: int) -> Image.Image:
    """A shaded product on a plain studio background, with photo-like noise."""
    rng = np.random.default_rng(3)
    image = Image.new("RGB", (side, side), (236, 236, 232))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([side * 0.25, side * 0.2, side * 0.75, side * 0.85], radius=side // 12, fill=(60, 110, 190))
    draw.ellipse([side * 0.38, side * 0.35, side * 0.62, side * 0.6], fill=(240, 150, 170))
    shaded = np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32)
    shaded += rng.normal(0, 4, shaded.shape)
    return Image.fromarray(np.clip(shaded, 0, 255).astype(np.uint8))


def edit_overhead(image: Image.Image) -> None:
    mask = regions.mask_from_region(image.size, 380, 350, 260, 240)
    regions.mark_region(image, mask)
    answers = [image.point(lambda v: min(255, v + 12)), image.point(lambda v: max(0, v - 12))]
    for answer in answers:
        result = regions.composite_edit(image, answer, mask)
        encode(result, "png")
        thumbnail(result)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    one_k, two_k = product_shot(1024), product_shot(2048)
    for name, times in (
        ("edit overhead, 1024x1024, 2 candidates", timed(lambda: edit_overhead(one_k), args.repeat)),
        ("cut-out, 2048x2048", timed(lambda: cut_out(two_k), args.repeat)),
        ("cut-out, 1024x1024", timed(lambda: cut_out(one_k), args.repeat)),
    ):
        print(row(name, times))


if __name__ == "__main__":
    main()
