"""Benchmark: exporting a project of many images as one zip (services/exports.py, issue 12 item 5).

A project of N history images (1024 px mockup-like pictures, with their 2048 px upscales already made)
is set up once in a temporary folder; then each export runs in a fresh Python process, which reads the
whole zip as a client would and reports its time to the first byte, its total time, the zip's size
and how much the process's peak resident memory (VmHWM) grew during the export. A zip built in memory
would grow it by at least the zip's size; a streamed one by about one image.

    .venv/bin/python bench/export_bench.py [--images 200] [--out /tmp/perf_export.md]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULT = "RESULT "
CASES = [("png", "1k"), ("jpeg", "1k"), ("jpeg", "1k"), ("png", "2k"), ("webp", "2k")]


def config(folder: Path) -> dict:
    return {"TESTING": True, "APP_ENV": "testing", "SECRET_KEY": "bench-secret", "DATA_DIR": str(folder / "data"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "EMBEDDED_RUNNER_AUTOSTART": False,
            "MOCKUP_ENGINE": "local", "BCRYPT_COST": 4}


def picture(side: int):
    """A deterministic mockup-like picture: a gradient with outlined shapes and a photograph's grain
    (so a 1K PNG is about as big as a generated one)."""
    import numpy as np
    from PIL import Image, ImageDraw

    x, y = np.meshgrid(np.linspace(0, 1, side), np.linspace(0, 1, side))
    image = Image.fromarray(np.dstack([30 + 200 * x, 40 + 180 * y, 20 + 100 * (x + y)]).astype(np.uint8))
    draw, rng = ImageDraw.Draw(image), np.random.default_rng(7)
    for i in range(60):
        cx, cy, r = (int(v) for v in (*rng.integers(0, side, 2), rng.integers(side // 100, side // 8)))
        (draw.ellipse if i % 2 else draw.rectangle)((cx - r, cy - r, cx + r, cy + r), outline=(0, 0, 0), width=4,
                                                     fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    grain = rng.normal(0, 6, (side, side, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype(np.uint8))


def setup(folder: Path, count: int) -> dict:
    """The project, its N generations with one image each in the history; files hard-linked to one
    1K and one 2K PNG so the bench needs little disk."""
    from mockup import create_app, storage
    from mockup.extensions import db
    from mockup.imaging.formats import encode
    from mockup.models import Character, CharacterImage, Generation, HistoryEntry, Image as ImageRow, Project
    from mockup.services import accounts

    app = create_app(config(folder))
    with app.app_context():
        db.create_all()
        user = accounts.register("bench@example.com", "correct horse battery", "Bench")
        project = Project(owner_id=user.id, name="봄 머그컵 Spring line")
        character = Character(project=project, name="토끼",
                              images=[CharacterImage(position=0, image_path="x.png", thumbnail_path="x_thumb.jpg")])
        db.session.add_all([project, character])
        db.session.flush()
        one_k, two_k = (storage.write_atomic(f"bench/{side}.png", encode(picture(side), "png")) for side in (1024, 2048))
        for number in range(count):
            generation = Generation(project=project, owner_id=user.id, mode="ip-change", engine="local",
                                    prompt=f"glossy acrylic, take {number}", source_path="x.png",
                                    character_id=character.id, status="succeeded", cost_usd=0.134)
            image = ImageRow(generation=generation, index=0, width=1024, height=1024, path="", thumbnail_path="")
            db.session.add(image)
            db.session.flush()
            image.path = storage.output(user.id, project.id, generation.id, 0)
            image.upscaled_path = storage.upscaled(image.id)
            for source, rel in ((one_k, image.path), (two_k, image.upscaled_path)):
                storage.resolve(rel).parent.mkdir(parents=True, exist_ok=True)
                os.link(source, storage.resolve(rel))
            db.session.add(HistoryEntry(project=project, image=image))
        db.session.commit()
        return {"user_id": user.id, "project_id": project.id,
                "one_k_bytes": one_k.stat().st_size, "two_k_bytes": two_k.stat().st_size}


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def measure(folder: Path, user_id: str, project_id: str, fmt: str, size: str) -> dict:
    """One export read to the end, in this (fresh) process."""
    from mockup import create_app
    from mockup.services import exports

    app = create_app(config(folder))
    with app.test_request_context():
        before = peak_rss_mb()
        start = time.perf_counter()
        plan = exports.export_project(user_id, project_id, "history", fmt, size)
        chunks = exports.stream(plan, None)
        total = len(next(chunks))
        first = time.perf_counter() - start
        for chunk in chunks:
            total += len(chunk)
        return {"files": len(plan.files), "first_byte_s": first, "total_s": time.perf_counter() - start,
                "zip_mb": total / 1e6, "rss_growth_mb": peak_rss_mb() - before}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--out", default="/tmp/perf_export.md")
    parser.add_argument("--measure", nargs=5, help=argparse.SUPPRESS)  # folder user project format size
    args = parser.parse_args()
    if args.measure:
        folder, user_id, project_id, fmt, size = args.measure
        print(RESULT + json.dumps(measure(Path(folder), user_id, project_id, fmt, size)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        made = setup(Path(tmp), args.images)
        lines = [f"Export of {args.images} history images ({date.today()}, {machine()}); one 1K PNG "
                 f"{made['one_k_bytes'] / 1e6:.1f} MB, one 2K PNG {made['two_k_bytes'] / 1e6:.1f} MB.", "",
                 "| format, size | files | first byte s | total s | zip MB | peak RSS growth MB |",
                 "| --- | --- | --- | --- | --- | --- |"]
        for number, (fmt, size) in enumerate(CASES):
            output = subprocess.run(
                [sys.executable, __file__, "--measure", tmp, made["user_id"], made["project_id"], fmt, size],
                check=True, capture_output=True, text=True, cwd=ROOT).stdout
            result = json.loads(next(line for line in output.splitlines() if line.startswith(RESULT))[len(RESULT):])
            again = " (again: converted copies kept)" if (fmt, size) in CASES[:number] else ""
            lines.append(f"| {fmt} {size}{again} | {result['files']} | {result['first_byte_s']:.2f} | "
                         f"{result['total_s']:.1f} | {result['zip_mb']:.0f} | {result['rss_growth_mb']:.0f} |")
            print(lines[-1], flush=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
