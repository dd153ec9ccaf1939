"""After a run: compare what each client was told with the ledger, the chain and the temp folder."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ugc_guard.ledger import Ledger

from .clients import UploadRecord
from .site import SECRET

__all__ = ["Check", "check_run", "leftover_temp_files", "submissions_in_ledger"]

NEVER_STORED = ("received", "not stored", "not stored (unconfirmed)")


@dataclass
class Check:
    accepted: int = 0
    """Uploads answered 201 with a submission id."""
    refused: int = 0
    """Uploads answered with a refusal (4xx/5xx)."""
    refused_recorded: int = 0
    """Refused 503 ``ledger-unavailable`` after recording (the ledger could not confirm the app's answer): a
    submission that is never stored."""
    unanswered: int = 0
    """Uploads whose connection broke before an answer (a killed worker)."""
    in_ledger: int = 0
    """Submission entries in the ledger."""
    chain_entries: int = 0
    chain_ok: bool = False
    app_files: int = 0
    """Files the example app stored (each must be covered by a submission)."""
    temp_left: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        refused = f"{self.refused} refused with none" + (f" but {self.refused_recorded} recorded, never stored" if self.refused_recorded else "")
        return (f"{self.accepted} accepted uploads each with exactly one submission + licence + portrait grant; "
                f"{refused}; {self.unanswered} unanswered; {self.in_ledger} submissions in the ledger; "
                f"chain {'verifies' if self.chain_ok else 'FAILS'} ({self.chain_entries} entries); "
                f"{len(self.temp_left)} temporary files left")  # fmt: skip


def submissions_in_ledger(ledger: Ledger, campaign: str = "onscreen") -> int:
    for item in ledger.stats(campaign)["campaigns"]:
        return int(item["kinds"].get("submission", 0))
    return 0


def leftover_temp_files(temp_dir: Path, wait: float = 10.0, ignore: Iterable[str] = ()) -> list[str]:
    """Files still in ``temp_dir`` after up to ``wait`` seconds (removal runs after the response)."""
    skip = set(ignore)
    deadline = time.monotonic() + wait
    while True:
        left = sorted(p.name for p in temp_dir.iterdir() if p.name not in skip)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def check_run(ledger_url: str, uploads: list[UploadRecord], temp_dir: Path, upload_dir: Path | None = None,
              *, campaign: str = "onscreen", temp_ignore: Iterable[str] = ()) -> Check:
    """Every 201 has exactly one submission with both grants; no refusal has one; the chain verifies;
    every file the app stored is covered by a submission; the temp folder is empty."""
    ledger = Ledger(ledger_url, secret=SECRET)
    check = Check()
    kept = _app_files(ledger, upload_dir, check)
    for upload in uploads:
        records = ledger.by_content(upload.sha256)
        if upload.status == 201 and upload.submission_id:
            check.accepted += 1
            if len(records) != 1:
                check.problems.append(f"accepted upload {upload.sha256[:12]} ({upload.media}) has {len(records)} submissions")
                continue
            record = records[0]
            kinds = sorted(entry.kind for entry in record["entries"])
            if str(record["submission"].id) != upload.submission_id:
                check.problems.append(f"upload {upload.sha256[:12]}: told id {upload.submission_id}, ledger has {record['submission'].id}")
            if kinds[:2] != ["licence_grant", "portrait_grant"] and not {"licence_grant", "portrait_grant"} <= set(kinds):
                check.problems.append(f"upload {upload.sha256[:12]}: grants {kinds}")
            if record["status"] not in ("accepted", "stored"):
                check.problems.append(f"upload {upload.sha256[:12]}: status {record['status']!r} although the app answered 201")
            if record["acceptance"] is None or record["acceptance"].kind != "terms_acceptance":
                check.problems.append(f"upload {upload.sha256[:12]}: no terms acceptance behind the submission")
        elif upload.status is None:
            check.unanswered += 1
            # "stored" is true of an unanswered upload only when the app holds its file: the worker died after the
            # ledger recorded the app's 2xx and before the client read it
            if records and (records[0]["status"] == "accepted" or (records[0]["status"] == "stored" and records[0]["submission"].id not in kept)):
                check.problems.append(f"unanswered upload {upload.sha256[:12]} stands as an accepted submission in the ledger")
        else:
            check.refused += 1
            if records and upload.code == "ledger-unavailable" and all(r["status"] in NEVER_STORED for r in records):
                check.refused_recorded += 1  # recorded, then the ledger could not confirm the app's 2xx: told 503
            elif records:
                check.problems.append(f"refused upload {upload.sha256[:12]} ({upload.status} {upload.code}) has {len(records)} submissions")
    check.in_ledger = submissions_in_ledger(ledger, campaign)
    stood = check.accepted + check.refused_recorded + sum(1 for upload in uploads if upload.status is None and ledger.by_content(upload.sha256))
    if check.in_ledger != stood:
        check.problems.append(f"{check.in_ledger} submissions in the ledger but {check.accepted} uploads were told 201")
    verification = ledger.verify()
    check.chain_ok, check.chain_entries = verification.ok, verification.entries
    if not verification.ok:
        check.problems.append(f"chain does not verify: {verification.findings}")
    check.temp_left = leftover_temp_files(temp_dir, ignore=temp_ignore)
    if check.temp_left:
        check.problems.append(f"temporary files left in {temp_dir}: {check.temp_left[:5]}")
    ledger.close()
    return check


def _app_files(ledger: Ledger, upload_dir: Path | None, check: Check) -> set[int]:
    """Count the files the app stored, flag those no submission covers; return the covering submission ids."""
    kept: set[int] = set()
    if upload_dir is None or not upload_dir.exists():
        return kept
    for path in upload_dir.iterdir():
        check.app_files += 1
        data = path.read_bytes()
        found = ledger.by_content(hashlib.sha256(data).hexdigest())
        if not found:  # the app got the recorded (canonical) bytes with the rights XMP written in after recording
            found = ledger.by_content(hashlib.sha256(_without_rights(data)).hexdigest())
        if not found:
            check.problems.append(f"the app stored {path.name}, which no submission in the ledger covers")
        kept.update(item["submission"].id for item in found)
    return kept


def _without_rights(data: bytes) -> bytes:
    """The file without the XMP rights packet ugc_guard.screening.embed writes into delivered files (what the
    ledger recorded as ``canonical_sha256``)."""
    from ugc_guard.screening.embed import XMP_UUID
    from ugc_guard.screening.jpeg_segments import strip_jpeg
    from ugc_guard.screening.png_chunks import strip_png, strip_webp

    if data.startswith(b"\xff\xd8"):
        return strip_jpeg(data).data
    if data.startswith(b"\x89PNG"):
        return strip_png(data).data
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return strip_webp(data).data
    offset, last = 0, None
    while offset + 8 <= len(data):  # ISO BMFF: the rights are a uuid box appended at the end
        size = int.from_bytes(data[offset:offset + 4], "big")
        if size < 8:
            return data
        last, offset = offset, offset + size
    if last is not None and offset == len(data) and data[last + 4:last + 8] == b"uuid" and data[last + 8:last + 24] == XMP_UUID:
        return data[:last]
    return data
