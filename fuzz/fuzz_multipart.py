"""atheris harness for the streaming upload parser (ugc_guard.screening.multipart).

The input is split into a Content-Type header, a list of chunk sizes and a body; the body is fed to
``MultipartReader`` in those chunks as the screening stage does, then ``finish()``. The only
acceptable failure is ``Problem`` (a 4xx problem); any other exception is a finding. Field values
and part counts must stay within the limits.

    python fuzz/fuzz_multipart.py -dict=fuzz/multipart.dict [-max_total_time=60] [corpus_dir]

Without a corpus folder it starts from a temp copy of ``fuzz/corpus`` (seeds are never modified);
without ``-max_total_time`` / ``-runs`` it stops after 60 seconds.

Needs ``pip install atheris`` (CPython 3.11 on Linux x86-64 has wheels).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from ugc_guard.policy.uploads import UploadLimits
    from ugc_guard.problems import Problem
    from ugc_guard.screening.limits import Budget
    from ugc_guard.screening.multipart import MultipartReader, boundary_of
    from ugc_guard.screening.spool import BodySpool
    from ugc_guard.screening.tempfiles import TempFiles

LIMITS = UploadLimits(max_total_bytes=1024 * 1024, max_file_bytes=512 * 1024, max_files=4, max_fields=8, max_field_bytes=4096,
                      max_part_header_bytes=2048)
TEMP = tempfile.mkdtemp(prefix="ugc-fuzz-")
CONTENT_TYPES = [b"multipart/form-data; boundary=XyZ", b"multipart/form-data; boundary=\"a b'c\"", b"multipart/form-data; boundary=-"]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    choice = fdp.ConsumeIntInRange(0, len(CONTENT_TYPES))
    content_type = (CONTENT_TYPES[choice] if choice < len(CONTENT_TYPES) else fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 90))).decode("latin-1")
    sizes = [fdp.ConsumeIntInRange(1, 64) for _ in range(fdp.ConsumeIntInRange(0, 8))]
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    temp = TempFiles(TEMP)
    try:
        spool = BodySpool(temp, memory_limit=2 * 1024 * 1024)  # in memory: the parser is the subject here
        budget = Budget(LIMITS)
        try:
            reader = MultipartReader(boundary_of(content_type), budget, spool, None)
            offset = 0
            for size in [*sizes, len(body)]:
                chunk = body[offset : offset + size]
                offset += len(chunk)
                if not chunk:
                    continue
                budget.body(len(chunk))
                spool.queue(chunk)
                reader.feed(chunk)
            parts = reader.finish()
        except Problem:
            return
        assert len(parts) <= LIMITS.max_files + LIMITS.max_fields
        for part in parts:
            if part.is_file:
                assert 0 <= part.offset and part.offset + part.length <= len(body), (part.offset, part.length, len(body))
            else:
                assert len(part.value) <= LIMITS.max_field_bytes
    finally:
        temp.remove()


def main() -> None:
    if not any(not arg.startswith("-") for arg in sys.argv[1:]):  # no corpus folder given: a temp copy of the seeds
        corpus = Path(tempfile.mkdtemp(prefix="ugc-fuzz-corpus-"))
        for seed in Path(__file__).with_name("corpus").iterdir():
            shutil.copy(seed, corpus / seed.name)
        sys.argv.append(str(corpus))
    if not any(arg.startswith(("-max_total_time", "-runs")) for arg in sys.argv[1:]):
        sys.argv.append("-max_total_time=60")  # always bounded
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
