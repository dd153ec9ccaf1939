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


@dataclass
class Check:
    accepted: int = 0
    """Uploads answered 201 with a submission id."""
    refused: int = 0
    """Uploads answered with a refusal (4xx/5xx)."""
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
        return (f"{self.accepted} accepted uploads each with exactly one submission + licence + portrait grant; "
                f"{self.refused} refused with none; {self.unanswered} unanswered; {self.in_ledger} submissions in the ledger; "
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
            if records and records[0]["status"] in ("accepted", "stored"):
                check.problems.append(f"unanswered upload {upload.sha256[:12]} stands as an accepted submission in the ledger")
        else:
            check.refused += 1
            if records:
                check.problems.append(f"refused upload {upload.sha256[:12]} ({upload.status} {upload.code}) has {len(records)} submissions")
    check.in_ledger = submissions_in_ledger(ledger, campaign)
    stood = check.accepted + sum(1 for upload in uploads if upload.status is None and ledger.by_content(upload.sha256))
    if check.in_ledger != stood:
        check.problems.append(f"{check.in_ledger} submissions in the ledger but {check.accepted} uploads were told 201")
    verification = ledger.verify()
    check.chain_ok, check.chain_entries = verification.ok, verification.entries
    if not verification.ok:
        check.problems.append(f"chain does not verify: {verification.findings}")
    if upload_dir is not None and upload_dir.exists():
        for path in upload_dir.iterdir():
            check.app_files += 1
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if not ledger.by_content(digest):
                check.problems.append(f"the app stored {path.name}, which no submission in the ledger covers")
    check.temp_left = leftover_temp_files(temp_dir, ignore=temp_ignore)
    if check.temp_left:
        check.problems.append(f"temporary files left in {temp_dir}: {check.temp_left[:5]}")
    ledger.close()
    return check
