"""Photo processing benchmark: the pipeline's ``photo_render`` against a naive Pillow version.

    .venv/bin/python bench/photos.py [--repeat 15] [--warmup 2]

What it does, in order:

1. Builds a 12-megapixel phone-like JPEG (4000x3000, quality 92, gradients plus coarse and
   fine texture from a fixed seed, so it compresses like a photo: about 3.6 MB) carrying
   EXIF Orientation=6 (shot holding the phone upright), GPS, DateTimeOriginal and
   OffsetTimeOriginal.
2. Pins itself to one CPU core (``os.sched_setaffinity``, where the OS has it).
3. Checks once that the pipeline's output is right: upright (1200x1600), no EXIF, GPS read.
4. Times, alternately so that noise on a shared machine falls on both, ``--repeat`` runs of
   - pipeline: ``backend.photos.processing.photo_render`` (JPEG draft mode, shrink before
     turning upright, LANCZOS with reducing_gap, thumbnail from the display image);
   - naive: full decode (``Image.open`` + ``ImageOps.exif_transpose``), resize to 1600 px
     with LANCZOS and no reducing_gap, then the same thumbnail and JPEG encoding;
   both end with the two JPEG files (display and thumbnail) encoded in memory.
5. Prints the medians, the ratio and PASS/FAIL against the goal (median <= 150 ms), writes
   the figures to bench/results/photos.json and exits 1 if the goal is missed.

Pure Pillow: neither Django nor the database is needed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.photos.processing import (  # noqa: E402
    DISPLAY_QUALITY,
    THUMBNAIL_QUALITY,
    photo_render,
)

RESULTS = ROOT / "bench" / "results" / "photos.json"
SIZE = (4000, 3000)
DISPLAY_PX = 1600
THUMBNAIL_PX = 400
GOAL_MS = 150.0
SEED = 311


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


def pipeline(data: bytes) -> None:
    photo_render(data, display_px=DISPLAY_PX, thumbnail_px=THUMBNAIL_PX, default_tz="UTC")


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def naive(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        upright = ImageOps.exif_transpose(img)  # decodes all 12 MP, turns all 12 MP
    display = upright.resize(_fit(upright.size, DISPLAY_PX), Image.Resampling.LANCZOS)
    thumbnail = display.resize(_fit(display.size, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    for image, quality in ((display, DISPLAY_QUALITY), (thumbnail, THUMBNAIL_QUALITY)):
        image.info = {}
        image.save(io.BytesIO(), "JPEG", quality=quality, optimize=True)


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def check(data: bytes) -> None:
    rendered = photo_render(
        data, display_px=DISPLAY_PX, thumbnail_px=THUMBNAIL_PX, default_tz="UTC"
    )
    with Image.open(io.BytesIO(rendered.display_jpeg)) as display:
        assert display.size == (1200, 1600), display.size
        assert not display.getexif(), "EXIF left in the display image"
    assert rendered.thumbnail_size == (300, 400), rendered.thumbnail_size
    assert rendered.gps is not None and rendered.gps[0] < 0 < rendered.gps[1], rendered.gps


def timed(fn: Callable[[bytes], None], data: bytes) -> float:
    start = time.perf_counter()
    fn(data)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each (15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs of each first (2)")
    args = parser.parse_args()

    pinning = pin_one_core()
    data = phone_jpeg()
    check(data)
    for _ in range(args.warmup):
        pipeline(data)
        naive(data)
    times: dict[str, list[float]] = {"pipeline": [], "naive": []}
    for _ in range(args.repeat):
        times["pipeline"].append(timed(pipeline, data))
        times["naive"].append(timed(naive, data))
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["naive"] / median["pipeline"]
    passed = median["pipeline"] <= GOAL_MS

    print(
        f"Photo processing: {SIZE[0]}x{SIZE[1]} JPEG, {len(data) / 1e6:.1f} MB, "
        f"EXIF Orientation=6 + GPS; {pinning}; {args.repeat} runs each after "
        f"{args.warmup} warm-up; output display <= {DISPLAY_PX} px + thumbnail <= "
        f"{THUMBNAIL_PX} px, both JPEG-encoded."
    )
    rows = (
        ("pipeline", "photo_render: draft decode, shrink, then upright"),
        ("naive", "full decode + exif_transpose + LANCZOS resize"),
    )
    for name, what in rows:
        values = times[name]
        print(
            f"  {name:<9}{median[name]:7.1f} ms median  (min {min(values):.1f}, "
            f"max {max(values):.1f})  {what}"
        )
    print(f"  ratio    {ratio:7.2f}x  (naive median / pipeline median)")
    print(
        f"  goal     pipeline median <= {GOAL_MS:.0f} ms: "
        f"{'PASS' if passed else 'FAIL'} ({median['pipeline']:.1f} ms)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "image": {"size": SIZE, "bytes": len(data), "orientation": 6},
                "cpu": pinning,
                "repeat": args.repeat,
                "median_ms": {k: round(v, 2) for k, v in median.items()},
                "runs_ms": {k: [round(x, 2) for x in v] for k, v in times.items()},
                "ratio": round(ratio, 3),
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
