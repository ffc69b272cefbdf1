"""Photo processing benchmark: the pipeline's ``photo_render`` against Pillow, side by side.

    .venv/bin/python bench/photos.py [--repeat 15] [--warmup 2] [--simd-python PATH]

What it does, in order:

1. Builds a 12-megapixel phone-like JPEG (4000x3000, quality 92, gradients plus coarse and
   fine texture from a fixed seed, so it compresses like a photo: about 3.6 MB) carrying
   EXIF Orientation=6 (shot holding the phone upright), GPS, DateTimeOriginal and
   OffsetTimeOriginal.
2. Pins itself to one CPU core (``os.sched_setaffinity``, where the OS has it); the child
   processes below inherit the pinning, so libvips' threads share that one core too.
3. Checks once that the pipeline's output is right: upright (1200x1600), no metadata, GPS
   read, the same sizes as the Pillow rendering and visually the same (PSNR).
4. Starts one child process per variant, each warmed up with ``--warmup`` runs:
   - pipeline: ``backend.photos.processing.photo_render`` (Pillow reads the header and EXIF,
     libvips shrinks on load, resizes, turns upright and encodes; ADR 0022);
   - pillow: ``photo_render_pillow``, the all-Pillow pipeline the project used before (JPEG
     draft mode, shrink before turning upright, LANCZOS with reducing_gap, thumbnail from the
     display image): the baseline;
   - naive: full decode (``Image.open`` + ``ImageOps.exif_transpose``), resize to 1600 px
     with LANCZOS and no reducing_gap, then the same thumbnail and JPEG encoding;
   - pillow-simd (with ``--simd-python``, an interpreter whose PIL is Pillow-SIMD, which
     replaces Pillow's own module and so needs a virtualenv of its own): ``photo_render_pillow``
     there;
   every one ends with the two JPEG files (display and thumbnail) encoded in memory.
5. Times ``--repeat`` rounds; in each round every child renders once, in turn (the order
   rotates from round to round), so noise on a shared machine falls on all of them. Each
   child then reports its peak resident memory (VmHWM; libvips allocates outside Python, so
   tracemalloc would not see it) and its resident memory before the first render.
6. Prints each variant's median beside the goal (median <= 45 ms) with PASS/FAIL and its
   ratio to the baseline, writes the figures to bench/results/photos.json and exits 1 if
   the pipeline misses the goal.

No database needed.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageFilter, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "photos.json"
SIZE = (4000, 3000)
DISPLAY_PX = 1600
THUMBNAIL_PX = 400
GOAL_MS = 45.0
# The pipeline's display image against the Pillow rendering of the same file.
PSNR_MIN_DB = 40.0
SEED = 311
VARIANTS = {
    "pipeline": "photo_render: libvips shrink-on-load, resize, upright, encode",
    "pillow": "photo_render_pillow: draft decode, shrink, then upright (baseline)",
    "naive": "full decode + exif_transpose + LANCZOS resize",
    "pillow-simd": "photo_render_pillow under Pillow-SIMD (its own venv)",
}
BASELINE = "pillow"


def _noise(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def phone_jpeg() -> bytes:
    """A 4000x3000 JPEG that decodes like a phone photo, with the EXIF a phone writes."""
    rng = random.Random(SEED)
    w, h = SIZE
    # Smooth light across the frame (sky, shading)...
    red = Image.linear_gradient("L").resize(SIZE)
    green = Image.radial_gradient("L").resize(SIZE)
    blue = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(SIZE)
    img = Image.merge("RGB", (red, green, blue))
    # ...asphalt-like texture at two scales, different in each channel (chroma noise).
    coarse = Image.merge(
        "RGB",
        [_noise(rng, (w // 2, h // 2)).filter(ImageFilter.GaussianBlur(1.5)).resize(SIZE)] * 3,
    )
    fine = Image.merge("RGB", [_noise(rng, SIZE) for _ in range(3)])
    img = ImageChops.blend(img, coarse, 0.45)
    img = ImageChops.blend(img, fine, 0.08)

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchPhone"
    exif[ExifTags.Base.Model] = "12 MP"
    exif[ExifTags.Base.Orientation] = 6
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2025:04:03 08:15:42"
    sub[ExifTags.Base.OffsetTimeOriginal] = "-04:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (42.0, 21.0, 36.36)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (71.0, 3.0, 32.04)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def naive(data: bytes) -> None:
    from backend.photos.processing import DISPLAY_QUALITY, THUMBNAIL_QUALITY

    with Image.open(io.BytesIO(data)) as img:
        upright = ImageOps.exif_transpose(img)  # decodes all 12 MP, turns all 12 MP
    display = upright.resize(_fit(upright.size, DISPLAY_PX), Image.Resampling.LANCZOS)
    thumbnail = display.resize(_fit(display.size, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    for image, quality in ((display, DISPLAY_QUALITY), (thumbnail, THUMBNAIL_QUALITY)):
        image.info = {}
        image.save(io.BytesIO(), "JPEG", quality=quality, optimize=True)


def _renderer(variant: str) -> Callable[[bytes], None]:
    if variant == "naive":
        return naive
    from backend.photos import processing

    render = processing.photo_render if variant == "pipeline" else processing.photo_render_pillow

    def run(data: bytes) -> None:
        render(data, display_px=DISPLAY_PX, thumbnail_px=THUMBNAIL_PX, default_tz="UTC")

    return run


def _memory_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (its peak) of this process, in MiB. The peak is the
    kernel's high-water mark of this process image: unlike ``getrusage``'s ru_maxrss, which
    Linux carries over ``execve``, it does not start at the size of the parent that forked."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(variant: str, image: Path, warmup: int) -> int:
    """One variant in a process of its own: 'run' renders once and answers the time in ms,
    'exit' answers the peak RSS. Its first line: the RSS before any render, PIL's version."""
    import PIL

    data = image.read_bytes()
    render = _renderer(variant)
    idle = _memory_mb("VmRSS")
    for _ in range(warmup):
        render(data)
    print(json.dumps({"idle_mb": idle, "pil": PIL.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() == "run":
            start = time.perf_counter()
            render(data)
            print((time.perf_counter() - start) * 1000, flush=True)
        else:
            break
    print(json.dumps({"peak_mb": _memory_mb("VmHWM")}), flush=True)
    return 0


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def psnr(a: bytes, b: bytes) -> float:
    with Image.open(io.BytesIO(a)) as first, Image.open(io.BytesIO(b)) as second:
        diff = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    stat = ImageStat.Stat(diff)
    mse = sum(stat.sum2) / (3 * stat.count[0])
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def check(data: bytes) -> float:
    """The pipeline's output is right; returns its PSNR against the Pillow rendering."""
    from backend.photos.processing import photo_render, photo_render_pillow

    kwargs = {"display_px": DISPLAY_PX, "thumbnail_px": THUMBNAIL_PX, "default_tz": "UTC"}
    rendered = photo_render(data, **kwargs)  # type: ignore[arg-type]
    reference = photo_render_pillow(data, **kwargs)  # type: ignore[arg-type]
    with Image.open(io.BytesIO(rendered.display_jpeg)) as display:
        assert display.size == (1200, 1600), display.size
        assert not display.getexif(), "EXIF left in the display image"
        assert not set(display.info) & {"exif", "icc_profile", "xmp", "comment"}, display.info
    assert rendered.thumbnail_size == reference.thumbnail_size == (300, 400)
    assert rendered.display_size == reference.display_size
    assert rendered.gps == reference.gps and rendered.gps is not None
    assert rendered.gps[0] < 0 < rendered.gps[1], rendered.gps
    quality = psnr(rendered.display_jpeg, reference.display_jpeg)
    assert quality >= PSNR_MIN_DB, f"PSNR {quality:.1f} dB against Pillow"
    return quality


class Child:
    def __init__(self, variant: str, python: str, image: Path, warmup: int) -> None:
        self.variant = variant
        self.proc = subprocess.Popen(
            [python, __file__, "--child", variant, "--image", str(image), "--warmup", str(warmup)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        hello = json.loads(self._line())
        self.idle_mb: float = hello["idle_mb"]
        self.pil: str = hello["pil"]
        self.times: list[float] = []
        self.peak_mb = 0.0

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.variant}: the child process ended")
        return line

    def run(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("run\n")
        self.times.append(float(self._line()))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("exit\n")
        self.proc.stdin.flush()
        self.peak_mb = json.loads(self._line())["peak_mb"]
        self.proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs of each first (2)")
    parser.add_argument(
        "--simd-python",
        help="a Python whose PIL is Pillow-SIMD (and that has Django, Celery and pyvips): "
        "adds the pillow-simd variant",
    )
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(
            "pillow" if args.child == "pillow-simd" else args.child, args.image, args.warmup
        )

    pinning = pin_one_core()
    data = phone_jpeg()
    quality = check(data)
    pythons = {name: sys.executable for name in ("pipeline", "pillow", "naive")}
    if args.simd_python:
        pythons["pillow-simd"] = args.simd_python
    with tempfile.NamedTemporaryFile(suffix=".jpg") as image:
        image.write(data)
        image.flush()
        children = [
            Child(name, python, Path(image.name), args.warmup) for name, python in pythons.items()
        ]
        for round_ in range(args.repeat):
            shift = round_ % len(children)
            for worker in children[shift:] + children[:shift]:
                worker.run()
        for worker in children:
            worker.close()

    median = {w.variant: statistics.median(w.times) for w in children}
    passed = median["pipeline"] <= GOAL_MS
    print(
        f"Photo processing: {SIZE[0]}x{SIZE[1]} JPEG, {len(data) / 1e6:.1f} MB, "
        f"EXIF Orientation=6 + GPS; {pinning}; {args.repeat} rounds, each variant in its own "
        f"process, after {args.warmup} warm-up runs; output display <= {DISPLAY_PX} px + "
        f"thumbnail <= {THUMBNAIL_PX} px, both JPEG-encoded. Pipeline display vs Pillow's: "
        f"PSNR {quality:.1f} dB (>= {PSNR_MIN_DB:.0f})."
    )
    print(
        f"  {'variant':<12}{'median':>9}{'min':>8}{'max':>8}{'x base':>8}"
        f"{'peak RSS':>10}{'+render':>9}  goal <= {GOAL_MS:.0f} ms"
    )
    for worker in children:
        values = worker.times
        verdict = "PASS" if median[worker.variant] <= GOAL_MS else "FAIL"
        print(
            f"  {worker.variant:<12}{median[worker.variant]:7.1f}ms{min(values):6.1f}ms"
            f"{max(values):6.1f}ms{median[BASELINE] / median[worker.variant]:7.2f}x"
            f"{worker.peak_mb:8.0f}MB{worker.peak_mb - worker.idle_mb:7.0f}MB  {verdict}  "
            f"{VARIANTS[worker.variant]} (PIL {worker.pil})"
        )
    print(
        f"  goal     pipeline median <= {GOAL_MS:.0f} ms: "
        f"{'PASS' if passed else 'FAIL'} ({median['pipeline']:.1f} ms; the baseline "
        f"{median[BASELINE]:.1f} ms in the same run)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "image": {"size": SIZE, "bytes": len(data), "orientation": 6},
                "cpu": pinning,
                "repeat": args.repeat,
                "median_ms": {k: round(v, 2) for k, v in median.items()},
                "runs_ms": {w.variant: [round(x, 2) for x in w.times] for w in children},
                "peak_rss_mb": {w.variant: round(w.peak_mb, 1) for w in children},
                "idle_rss_mb": {w.variant: round(w.idle_mb, 1) for w in children},
                "pil_version": {w.variant: w.pil for w in children},
                "psnr_db": round(quality, 2),
                "goal_ms": GOAL_MS,
                "passed": passed,
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
