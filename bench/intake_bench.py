"""Benchmark: server time to take in a ~10 MB photo upload (DESIGN.md section 9: aim < 0.5 s).

Measures the service path a generate request runs before it answers: decode and validate
(`imaging.intake.decode_upload`) and store (`services.uploads.store_source`, a 4:4:4 JPEG), plus the whole
`submit_generation` call (both, with the database commit), on an embedded-default app in a temp folder.

    .venv/bin/python bench/intake_bench.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import row, timed  # noqa: E402
from mockup import create_app, storage  # noqa: E402
from mockup.extensions import db  # noqa: E402
from mockup.imaging.intake import decode_upload  # noqa: E402
from mockup.services import accounts, generations, projects, uploads  # noqa: E402


def photo_of_about_10_mb() -> bytes:
    """A photo-like 24 MP JPEG (noise over gradients defeats compression) just under 10 MB."""
    rng = np.random.default_rng(7)
    height, width = 4000, 6000
    gradient = np.linspace(40, 215, width, dtype=np.float32)[None, :, None]
    pixels = gradient + rng.normal(0, 18, (height, width, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    for quality in (90, 85, 80, 75, 70):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() < 10 * 1024 * 1024:
            return buffer.getvalue()
    raise RuntimeError("could not make a photo under 10 MB")




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = photo_of_about_10_mb()
    folder = Path(tempfile.mkdtemp())
    app = create_app({
        "APP_ENV": "testing", "DATA_DIR": str(folder / "data"), "BCRYPT_COST": 4,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}", "EMBEDDED_RUNNER_AUTOSTART": False,
        "MOCKUP_ENGINE": "local", "QUEUE_LIMIT": 10_000,
    })
    with app.app_context():
        db.create_all()
        user = accounts.register("bench@example.com", "bench password", "Bench")
        project = projects.create_project(user.id, "Bench")
        decode = timed(lambda: decode_upload(data), args.repeat)
        image = decode_upload(data)
        store = timed(lambda: uploads.store_source(storage.Staging(), user.id, project.id, image), args.repeat)
        submit = timed(lambda: generations.submit_generation(
            user.id, project.id, mode="sketch-to-real", source_image=data), args.repeat)
    print(f"| input | {len(data) / 1e6:.1f} MB JPEG, {image.width}x{image.height} |")
    for name, times in (("decode + validate", decode), ("store (JPEG q95 4:4:4)", store), ("submit_generation", submit)):
        print(row(name, times))


if __name__ == "__main__":
    main()
