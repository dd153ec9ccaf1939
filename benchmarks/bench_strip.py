"""CPU per photo: the lossless metadata strip against the old decode and re-encode: python -m benchmarks.bench_strip

Two 2 MB JPEGs go through ``check_image`` as screening calls it, in this process, single-threaded,
rounds of the modes interleaved: a camera-like 12-megapixel photo (4032×3024, EXIF with GPS, XMP, a
comment, an ICC profile) and the random-noise photo of ``bench_screening`` (~1,100×1,100 at quality
80, the figure of the performance issue). CPU is ``time.process_time`` (user + system). Printed:

- ``lossless``: ``images.strip_metadata`` (default): segments dropped, the frame, scan and table
  headers checked (``jpeg_frame``; no decode), written to a temporary file and hashed;
- ``+ rights``: the same plus writing the XMP packet into the delivered copy and hashing it (what
  an accepted photo costs after recording);
- ``re-encode``: ``images.reencode: true``, what every photo cost before: full decode, orientation
  applied, JPEG quality 92 re-encode, hash.

Prints medians and the spread (min–max) over the rounds; writes nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageCms

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("UGC_GUARD_SECRET", "bench-secret-" + "x" * 32)

from ugc_guard.policy.uploads import ImageRules  # noqa: E402
from ugc_guard.screening.images import check_image  # noqa: E402
from ugc_guard.screening.jpeg_segments import insert_jpeg_xmp  # noqa: E402
from ugc_guard.screening.spool import BodySpool  # noqa: E402
from ugc_guard.screening.tempfiles import TempFiles  # noqa: E402
from ugc_guard.screening.xmp import RightsFacts, xmp_packet  # noqa: E402


def noise_photo(size_bytes: int = 2 * 1024 * 1024) -> bytes:
    """The photo of ``bench_screening``: random RGB noise at quality 80, the smallest square of at least 95 % of 2 MB."""
    side = 1000
    while True:
        image = Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        if out.tell() >= size_bytes * 0.95:
            return out.getvalue()
        side += 100


def camera_photo(target: int = 2 * 1024 * 1024) -> bytes:
    """A 4032×3024 JPEG of smooth shapes with sensor-like noise, about ``target`` bytes, with phone metadata."""
    rng = random.Random(12)
    small = Image.new("RGB", (63, 47))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(63 * 47)])
    base = small.resize((4032, 3024), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((4032, 3024), 24).convert("RGB")
    picture = Image.blend(base, noise, 0.18)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F], exif[0x0110] = "Phone maker", "Phone 15"
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    best = b""
    for quality in (70, 75, 80, 85, 88, 90, 92, 94, 96):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality, exif=exif, icc_profile=icc, xmp=xmp, comment=b"shot on a phone")
        best = out.getvalue()
        if len(best) >= target:
            break
    return best


FACTS = RightsFacts(
    licence_id="LicenseRef-onscreen-ugc", licence_version="1.0", licensor="Streamly Media B.V.", usage_terms="Licensed to Streamly.",
    model_release="http://ns.useplus.org/ldf/vocab/MR-LMR", data_mining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED",
    received_sha256="0" * 64, submission_id="42", receipt_entry="42", receipt_hash="sha256:" + "0" * 64,
)  # fmt: skip


def run(data: bytes, rules: ImageRules, rights: bool) -> float:
    """CPU seconds for one screening of ``data`` (and the rights step when ``rights``)."""
    temp = TempFiles(None)
    spool = BodySpool(temp, 10**9)
    spool.queue(data)
    spool._apply(spool._writes, [])
    try:
        start = time.process_time()
        report = check_image(spool.reader(), "image/jpeg", rules, temp)
        if rights and report.canonical is not None:
            with open(report.canonical.path, "rb") as handle:
                delivered = insert_jpeg_xmp(handle.read(), xmp_packet(FACTS))
            fd, _ = temp.create(".delivered")
            with os.fdopen(fd, "wb") as handle:
                handle.write(delivered)
            __import__("hashlib").sha256(delivered).hexdigest()
        return time.process_time() - start
    finally:
        temp.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    print(f"load average before: {' '.join(f'{value:.2f}' for value in os.getloadavg())}; {os.cpu_count()} cores")
    for label, data in (("camera-like", camera_photo()), ("noise (bench_screening)", noise_photo())):
        modes: dict[str, Callable[[], float]] = {
            "lossless": lambda data=data: run(data, ImageRules(), rights=False),
            "lossless + rights": lambda data=data: run(data, ImageRules(), rights=True),
            "re-encode (before)": lambda data=data: run(data, ImageRules(reencode=True), rights=False),
        }
        for measure in modes.values():
            measure()  # warm up: imports, libjpeg tables, page cache
        samples: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(rounds):
            for name, measure in modes.items():
                samples[name].append(measure() * 1000)
        with Image.open(io.BytesIO(data)) as image:
            print(f"\n{label} photo: {len(data) / 1024**2:.2f} MiB JPEG, {image.width}×{image.height}; {rounds} rounds, modes interleaved")
        base = statistics.median(samples["re-encode (before)"])
        print(f"{'mode':<22}{'CPU ms median':>15}{'min–max':>16}{'vs re-encode':>14}")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"{name:<22}{median:>15.1f}{f'{min(values):.1f}–{max(values):.1f}':>16}{median / base:>13.2f}x")
    print(f"\nload average after: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
