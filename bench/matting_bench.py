"""Benchmark: cut-out quality, speed and memory on the product-shot set of tests/matting_cases.py (issue 17).

Three methods on the same 1024x1024 shots:
- "segmentation + refinement": today's `mockup.imaging.matting` (U²-Net-p, refined at full resolution);
- "GrabCut from the border": the previous matting.py, taken from git (the commit named by --baseline);
- "rembg U²-Net-p (peer)": plain U²-Net-p at 320 px, upscaled with Lanczos, as rembg's `remove()` does
  it. rembg itself is not installed (it downloads its models at run time and pins older numpy/pillow),
  so its pre- and post-processing are reproduced here on the same model file through onnxruntime.

Figures: IoU of alpha >= 0.5 against the truth (mean and worst case), SAD of alpha (sum of absolute
differences, in thousands: the edge error), median wall and CPU time per image after one warm-up (the
CPU time, summed over both cores, shows what a loaded machine hides), and the extra peak memory of the
method (resident memory sampled every 2 ms, peak minus the start, model load included), each method in a
fresh process so one's memory cannot hide another's. Then which plain backdrop a transparent generation
should ask for: the products re-shot on each offered one and cut out.

    .venv/bin/python bench/matting_bench.py [--repeat 3] [--baseline f5e6ad4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import machine  # noqa: E402
from tests import matting_cases  # noqa: E402

SIDE = 1024
METHODS = ("segmentation + refinement", "GrabCut from the border", "rembg U²-Net-p (peer)")


def _baseline_module(commit: str) -> types.ModuleType:
    """The GrabCut matting.py as it was at `commit`, loaded as a module of its own."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:mockup/imaging/matting.py"],
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("grabcut_matting")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, "grabcut_matting.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def _method(name: str, baseline: str):
    """A function RGB array -> alpha (0..1) for one method, and the character flag it honours."""
    if name == METHODS[0]:
        from mockup.imaging import matting
        return lambda rgb, character: matting.foreground_alpha(rgb, fill_enclosed=character)
    if name == METHODS[1]:
        grabcut = _baseline_module(baseline)
        return lambda rgb, character: grabcut.foreground_alpha(rgb, fill_enclosed=character)
    from mockup.imaging import segmentation

    def rembg_u2netp(rgb: np.ndarray, character: bool) -> np.ndarray:
        model = segmentation.segmenter()
        small = cv2.resize(rgb, model.size, interpolation=cv2.INTER_LANCZOS4)  # rembg: PIL LANCZOS
        saliency = model.saliency(np.ascontiguousarray(small))
        mask = Image.fromarray(np.rint(saliency * 255).astype(np.uint8), "L")
        return np.asarray(mask.resize((rgb.shape[1], rgb.shape[0]), Image.Resampling.LANCZOS), np.float32) / 255
    return rembg_u2netp


def _rss_mb() -> float:
    """Resident memory now (not the high-water mark, which making the test set has already raised)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakMemory:
    """Samples the resident memory every 2 ms while the block runs; `extra_mb` is its peak over the start."""

    def __enter__(self) -> "PeakMemory":
        self.start = self.peak = _rss_mb()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.002)

    def __exit__(self, *exc) -> None:
        self._running = False
        self._thread.join()

    @property
    def extra_mb(self) -> float:
        return self.peak - self.start


def measure(name: str, baseline: str, repeat: int) -> dict:
    """Run one method over the whole set in this (fresh) process."""
    cases = matting_cases.cases(SIDE)
    inputs = [np.asarray(case.image) for case in cases]
    method = _method(name, baseline)
    rows, times, cpu_times = [], [], []
    with PeakMemory() as memory:
        for case, rgb in zip(cases, inputs):
            character = case.kind == "character"
            alpha = method(rgb, character)  # the warm-up (and, the first time, the model load)
            for _ in range(repeat):
                start, cpu_start = time.perf_counter(), time.process_time()
                method(rgb, character)
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
            rows.append((case.name, matting_cases.iou(alpha, case.alpha), matting_cases.sad(alpha, case.alpha)))
    return {"name": name, "rows": rows, "median_s": statistics.median(times),
            "cpu_s": statistics.median(cpu_times), "extra_mb": memory.extra_mb}


def backdrops() -> dict:
    """Which plain background to ask the image model for: every product of the set re-shot on each
    offered backdrop (the product's own pixels, flat backdrop, noise and JPEG as a model's output would
    have), cut out; and the backdrop `contrasting_backdrop` picks from the original photo."""
    from mockup.imaging import backdrop, matting
    products = [case for case in matting_cases.cases(SIDE) if case.kind == "product"]
    scores: dict[str, list[float]] = {b.name: [] for b in backdrop.BACKDROPS}
    scores["chosen per product"] = []
    for case in products:
        chosen = backdrop.contrasting_backdrop(case.image)
        for option in backdrop.BACKDROPS:
            reshot = matting_cases.on_backdrop(case, option.rgb)
            score = matting_cases.iou(matting.foreground_alpha(np.asarray(reshot)), case.alpha)
            scores[option.name].append(score)
            if option == chosen:
                scores["chosen per product"].append(score)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default="f5e6ad4", help="commit whose matting.py is the GrabCut path")
    args = parser.parse_args()
    results = []
    for name in METHODS:
        with ProcessPoolExecutor(1) as pool:  # a fresh process each: peak memory is per method
            results.append(pool.submit(measure, name, args.baseline, args.repeat).result())
    print(f"{machine()}, {date.today()}, load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| method | mean IoU | min IoU | mean SAD | time per 1024x1024 | CPU time (both cores) | "
          "extra peak memory |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        ious = [iou for _, iou, _ in result["rows"]]
        sads = [sad for _, _, sad in result["rows"]]
        print(f"| {result['name']} | {np.mean(ious):.4f} | {min(ious):.4f} | {np.mean(sads):.1f} | "
              f"{result['median_s'] * 1000:.0f} ms | {result['cpu_s'] * 1000:.0f} ms | {result['extra_mb']:.0f} MB |")
    with ProcessPoolExecutor(1) as pool:
        scores = pool.submit(backdrops).result()
    print("\n| backdrop asked for | mean IoU | min IoU |")
    print("| --- | --- | --- |")
    for name, values in scores.items():
        print(f"| {name} | {np.mean(values):.4f} | {min(values):.4f} |")
    print("\n| case | " + " | ".join(f"{name}: IoU / SAD" for name in METHODS) + " |")
    print("| --- |" + " --- |" * len(METHODS))
    for index, (case_name, _, _) in enumerate(results[0]["rows"]):
        cells = [f"{r['rows'][index][1]:.4f} / {r['rows'][index][2]:.1f}" for r in results]
        print(f"| {case_name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
