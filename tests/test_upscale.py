"""2K upscale: the real Real-ESRGAN ncnn models on small images, the 2048-px policy, and the
realesrgan-ncnn-vulkan backend driven through fake programs."""
from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mockup.imaging.matting import cut_out
from mockup.imaging.upscale import (
    MODEL_NAMES,
    RealEsrganCli,
    RealEsrganNcnn,
    UpscaleError,
    get_upscaler,
    upscale_to_2k,
)
from tests import matting_cases


def artwork(width: int, height: int, seed: int = 1) -> Image.Image:
    """Mockup-like content: a colour gradient, outlined shapes and text, so the model has edges to work on."""
    x, y = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    gradient = np.dstack([30 + 200 * x, 40 + 180 * y, 20 + 100 * (x + y)])
    image = Image.fromarray(gradient.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(seed)
    for i in range(max(4, width * height // 3000)):
        cx, cy = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(4, max(6, min(width, height) // 5)))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = draw.ellipse if i % 2 else draw.rectangle
        shape((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(0, 0, 0), width=2)
    font = ImageFont.load_default(size=max(10, height // 8))
    draw.text((width // 10, height // 3), "Mockup 42", fill=(255, 255, 255), font=font)
    return image


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64)


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = np.mean((pixels(a) - pixels(b)) ** 2)
    return float(10 * np.log10(255**2 / mse))


def edge_energy(image: Image.Image) -> float:
    grey = pixels(image.convert("L"))
    return float(np.mean(np.abs(np.diff(grey, axis=0))) + np.mean(np.abs(np.diff(grey, axis=1))))


# --- the ncnn backend with the real models ---


def test_output_is_a_real_super_resolution():
    source = artwork(96, 96)
    result = RealEsrganNcnn().upscale(source)
    bicubic = source.resize(result.size, Image.Resampling.BICUBIC)
    assert result.size == (384, 384) and result.mode == "RGB"
    assert psnr(result, bicubic) > 25  # the same picture, not noise
    assert np.mean(np.abs(pixels(result) - pixels(bicubic))) > 1  # ...but not a plain interpolation:
    assert edge_energy(result) > 1.05 * edge_energy(bicubic)  # its edges are sharper


def test_tiles_leave_no_seam():
    source = artwork(300, 300, seed=2)
    whole = pixels(RealEsrganNcnn(tile=512).upscale(source))
    tiled = pixels(RealEsrganNcnn(tile=100).upscale(source))
    unpadded = pixels(RealEsrganNcnn(tile=100, pad=0).upscale(source))
    seam = np.zeros((1200, 1200), bool)  # 2 px either side of the tile borders at x, y = 100 and 200
    for border in (400, 800):
        seam[border - 2 : border + 2, :] = seam[:, border - 2 : border + 2] = True

    difference = np.abs(tiled - whole).max(axis=2)
    assert difference.max() <= 2  # agrees everywhere, up to rounding
    assert difference[seam].mean() < 0.25 and difference[~seam].mean() < 0.05
    # The measure does see a seam when tiles get no context, so the assertions above are not vacuous.
    assert np.abs(unpadded - whole).max(axis=2)[seam].mean() > 1


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_each_model_loads_and_runs(model_name):
    source = artwork(32, 32, seed=3)
    result = RealEsrganNcnn(model_name).upscale(source)
    bicubic = source.resize((128, 128), Image.Resampling.BICUBIC)
    assert result.size == (128, 128)
    assert np.corrcoef(pixels(result).ravel(), pixels(bicubic).ravel())[0, 1] > 0.9  # the picture, enlarged


def test_alpha_is_upscaled_beside_the_colour():
    source = artwork(48, 48).convert("RGBA")
    mask = Image.new("L", source.size, 0)
    ImageDraw.Draw(mask).ellipse((8, 8, 40, 40), fill=255)
    source.putalpha(mask)
    result = RealEsrganNcnn().upscale(source)
    assert result.mode == "RGBA" and result.size == (192, 192)
    alpha = np.asarray(result.getchannel("A"))
    assert alpha[96, 96] == 255 and alpha[0, 0] == 0 and alpha[191, 191] == 0
    assert np.count_nonzero((alpha > 0) & (alpha < 255)) > 0  # a soft edge, not a blocky one


# --- the 2K policy ---


@pytest.mark.parametrize(
    "size, expected", [((64, 64), (2048, 2048)), ((128, 72), (2048, 1152)), ((72, 128), (1152, 2048))]
)
def test_long_side_is_exactly_2048(size, expected):
    result = upscale_to_2k(artwork(*size))
    assert result.size == expected and result.mode == "RGB"


def test_2k_keeps_transparency():
    source = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    ImageDraw.Draw(source).rectangle((20, 10, 60, 30), fill=(200, 30, 30, 255))
    result = upscale_to_2k(source)
    assert result.mode == "RGBA" and result.size == (2048, 1024)
    alpha = np.asarray(result.getchannel("A"))
    assert alpha[512, 1024] == 255 and alpha[0, 0] == 0


def test_a_cut_out_mug_downloaded_at_2k_keeps_its_see_through_handle():
    """The transparent download end to end: the cut-out of a white mug on white, Real-ESRGAN on its colour
    and Lanczos on its alpha, recombined; the handle's hole stays clear and the body stays whole."""
    case = matting_cases.white_mug_on_white(256)
    cut = cut_out(case.image)
    result = upscale_to_2k(cut)
    assert result.mode == "RGBA" and result.size == (2048, 2048)
    alpha = np.asarray(result.getchannel("A")).astype(np.float32) / 255.0
    truth = cv2.resize(case.alpha, (2048, 2048), interpolation=cv2.INTER_LINEAR)
    assert matting_cases.iou(alpha, truth) >= 0.95
    hole_x, hole_y = (round(v * 2048) for v in case.holes[0])
    assert alpha[hole_y - 8:hole_y + 9, hole_x - 8:hole_x + 9].max() == 0.0
    assert np.count_nonzero((alpha > 0.02) & (alpha < 0.98)) > 2000  # a soft edge, not a blocky one


class RecordingUpscaler:
    """Stands in for a model so the choice of scale can be checked without running one."""

    model_name = "realesr-animevideov3"
    scales = (2, 3, 4)

    def __init__(self) -> None:
        self.calls: list[int] = []

    def upscale(self, image: Image.Image, scale: int | None = None) -> Image.Image:
        self.calls.append(scale)
        return image.resize((image.width * scale, image.height * scale))


@pytest.mark.parametrize(
    "size, scale", [((1024, 1024), 2), ((1024, 576), 2), ((700, 300), 3), ((500, 500), 4), ((200, 100), 4)]
)
def test_the_smallest_scale_that_reaches_2048_is_used(size, scale):
    upscaler = RecordingUpscaler()
    result = upscale_to_2k(Image.new("RGB", size), upscaler)
    assert upscaler.calls == [scale] and max(result.size) == 2048


def test_a_4x_only_model_on_a_large_image_is_reduced_to_2048():
    upscaler = RecordingUpscaler()
    upscaler.scales = (4,)
    result = upscale_to_2k(Image.new("RGB", (1024, 768)), upscaler)
    assert upscaler.calls == [4] and result.size == (2048, 1536)


def test_images_already_2k_or_larger_are_only_resized():
    upscaler = RecordingUpscaler()
    assert upscale_to_2k(Image.new("RGB", (3000, 1500)), upscaler).size == (2048, 1024)
    assert upscale_to_2k(Image.new("P", (2048, 100)), upscaler).mode == "RGB"
    assert upscaler.calls == []


# --- choosing a backend ---


def test_config_chooses_the_backend():
    assert isinstance(get_upscaler({}), RealEsrganNcnn)
    ncnn_upscaler = get_upscaler({"UPSCALE_MODEL": "realesrgan-x4plus", "REALESRGAN_PATH": ""})
    assert isinstance(ncnn_upscaler, RealEsrganNcnn) and ncnn_upscaler.model_name == "realesrgan-x4plus"
    cli = get_upscaler({"UPSCALE_MODEL": "realesrgan-x4plus-anime", "REALESRGAN_PATH": "/opt/realesrgan"})
    assert isinstance(cli, RealEsrganCli) and cli.model_name == "realesrgan-x4plus-anime"


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(UpscaleError) as caught:
        get_upscaler({"UPSCALE_MODEL": "realesrgan-x8"})
    assert all(name in caught.value.message for name in MODEL_NAMES)


# --- the realesrgan-ncnn-vulkan backend, with fake programs ---


def fake_program(tmp_path, body: str):
    """Write an executable Python script that takes realesrgan-ncnn-vulkan's arguments."""
    script = tmp_path / "realesrgan-ncnn-vulkan"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


RESIZING_PROGRAM = """
    import sys
    from PIL import Image
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    open(__file__ + ".args", "w").write(" ".join(sys.argv[1:]))
    image = Image.open(args["-i"])
    scale = int(args["-s"])
    image.resize((image.width * scale, image.height * scale), Image.Resampling.BICUBIC).save(args["-o"])
    print("100.00%", file=sys.stderr)
"""


def test_program_backend_upscales(tmp_path):
    program = fake_program(tmp_path, RESIZING_PROGRAM)
    result = upscale_to_2k(artwork(512, 256), RealEsrganCli(str(program), "realesr-animevideov3"))
    assert result.size == (2048, 1024)
    assert tmp_path.joinpath(program.name + ".args").read_text().endswith("-n realesr-animevideov3 -s 4")


def test_program_backend_keeps_alpha(tmp_path):
    source = Image.new("RGBA", (40, 20), (10, 200, 10, 0))
    ImageDraw.Draw(source).rectangle((10, 5, 30, 15), fill=(10, 200, 10, 255))
    result = RealEsrganCli(str(fake_program(tmp_path, RESIZING_PROGRAM)), "realesrgan-x4plus").upscale(source)
    assert result.mode == "RGBA" and result.size == (160, 80)
    assert result.getpixel((80, 40))[3] == 255 and result.getpixel((0, 0))[3] == 0


def test_program_failure_is_a_clear_error(tmp_path):
    program = fake_program(
        tmp_path, 'import sys\nprint("vkCreateInstance failed -9", file=sys.stderr)\nsys.exit(1)\n'
    )
    with pytest.raises(UpscaleError) as caught:
        RealEsrganCli(str(program)).upscale(artwork(32, 32))
    assert caught.value.message == "The 2K upscale program failed (exit code 1)."
    assert "vkCreateInstance failed" in caught.value.detail  # for the logs, not for the designer


def test_program_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(UpscaleError, match="did not produce an image"):
        RealEsrganCli(str(fake_program(tmp_path, "print('done')\n"))).upscale(artwork(32, 32))


def test_program_that_hangs_times_out(tmp_path):
    program = fake_program(tmp_path, "import time\ntime.sleep(30)\n")
    with pytest.raises(UpscaleError) as caught:
        RealEsrganCli(str(program), timeout_s=0.5).upscale(artwork(32, 32))
    assert caught.value.code == "TIMEOUT"


def test_missing_program_is_a_clear_error(tmp_path):
    with pytest.raises(UpscaleError) as caught:
        RealEsrganCli(str(tmp_path / "realesrgan-ncnn-vulkan")).upscale(artwork(32, 32))
    assert "REALESRGAN_PATH" in caught.value.message


class FakeVulkanDevice:
    def __init__(self, kind: int) -> None:
        self.kind = kind

    def type(self) -> int:
        return self.kind


@pytest.mark.parametrize("kinds, expected", [
    ((), False),
    ((3,), False),     # Mesa's llvmpipe: a CPU behind a Vulkan driver, 20x slower than ncnn on the CPU
    ((0,), True),      # a discrete GPU
    ((3, 1), True),    # llvmpipe beside an integrated GPU
])
def test_only_a_real_gpu_counts_as_one(monkeypatch, kinds, expected):
    from mockup.imaging import realesrgan

    monkeypatch.setattr(realesrgan.ncnn, "get_gpu_count", lambda: len(kinds))
    monkeypatch.setattr(realesrgan.ncnn, "get_gpu_info", lambda index: FakeVulkanDevice(kinds[index]))
    realesrgan.gpu_available.cache_clear()  # asked once per process: forget the real answer, and this one
    try:
        assert realesrgan.gpu_available() is expected
    finally:
        realesrgan.gpu_available.cache_clear()


# The first 2K upscale in a fresh process, on a machine without a Vulkan loader (the loader lookup is
# made to find none, so the test means the same on a machine that has one): fd 2, where ncnn writes
# below Python, stays empty, and what the process itself writes to stderr afterwards still arrives.
FIRST_UPSCALE_WITHOUT_VULKAN = """
import ctypes.util, sys
from PIL import Image
ctypes.util.find_library = lambda name: None
from mockup.imaging.upscale import upscale_to_2k
assert upscale_to_2k(Image.new("RGB", (64, 48), (200, 30, 30))).size == (2048, 1536)
print("stderr still works", file=sys.stderr)
"""


def test_vulkan_probing_is_silent_without_a_loader():
    done = subprocess.run([sys.executable, "-c", FIRST_UPSCALE_WITHOUT_VULKAN], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "stderr still works\n"
