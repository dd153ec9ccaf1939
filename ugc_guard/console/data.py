"""What the console reads, through the ledger's own API, for one campaign. Every method is
synchronous (the views run them in a worker thread) and read-only."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from ..ledger import Ledger, LedgerError, ReceiptInvalid
from ..ledger.cases import Case, submission_case, submission_of_entry
from ..ledger.prooflog import ProofLog
from ..policy import Policy
from ..proof.keys import KeysError, PublicKey, parse_jwks
from ..proof.receipt import ReceiptError, verify_receipt
from ..rules.deadlines import Regime, deadlines

__all__ = ["ConsoleData", "ReceiptReport", "Search"]

HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
LIMIT = 500
"""At most this many rows on a page or in an export of a search (the CLI streams more)."""
MAX_ID = 2**63 - 1
"""The largest entry id a ledger can hold (a larger number is not looked up: no database takes it)."""


@dataclass(frozen=True, slots=True)
class Search:
    """What a search found: how the query was read, and the submissions (as rows) it leads to."""

    query: str
    read_as: str
    rows: list[dict[str, Any]]
    more: bool = False
    """True when more submissions match than a page shows (:data:`LIMIT`): narrow the search, or use the CLI."""


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    """The checks of a receipt: against the ledger, and (signed receipts) offline against the keys."""

    entry_id: int | None
    kind: str | None
    ledger_ok: bool
    ledger_problems: list[str]
    signature: str
    """``valid: …``, ``invalid: …`` or ``not signed`` (an unsigned receipt of the older format)."""
    signature_ok: bool | None
    submission_id: int | None


def submission_row(case_or_view: Any, status: str) -> dict[str, Any]:
    """Return a submission as a flat row for lists and exports."""
    view = case_or_view
    return {
        "submission_id": view.id, "campaign": view.campaign, "subject": view.subject,
        "recorded_at": view.recorded_at.isoformat(), "status": status, "content_sha256": view.content_sha256,
        "original_name": view.data.get("original_name"), "detected_type": view.data.get("detected_type"),
        "size": view.data.get("size"), "hash": view.hash,
    }


class ConsoleData:
    """The console's reads of ``ledger`` for the policy's campaign."""

    def __init__(self, ledger: Ledger, policy: Policy) -> None:
        self.ledger = ledger
        self.policy = policy
        self.campaign = policy.campaign.id
        self.keys: list[PublicKey] = []
        self.keys_note = ""
        try:
            log = ProofLog.from_policy(ledger, policy)
            self.keys = parse_jwks(log.jwks())
            self.origin: str | None = log.origin
        except (LedgerError, KeysError) as error:
            self.origin = None
            self.keys_note = f"signed receipts cannot be checked offline: {error}"
        self.texts = {text.sha256: (section, language, text.text)
                      for section, texts in (("terms", policy.terms.texts), ("licence", policy.licence.texts))
                      for language, text in texts.items()}

    def search(self, query: str) -> Search:
        """Find submissions by file hash (64 hex digits), entry or receipt id (a number), or subject pseudonym."""
        query = query.strip()
        if not query:
            return Search(query, "nothing", [])
        if HEX64.match(query):
            found = self.ledger.by_content(query.lower())
            rows = [submission_row(item["submission"], item["status"]) for item in found
                    if item["submission"].campaign == self.campaign]
            return Search(query, "file hash (SHA-256, original or re-encoded)", rows)
        if query.isascii() and query.isdigit():  # not "²": str.isdigit() is true for digits int() does not read
            if int(query) > MAX_ID:
                return Search(query, "entry or receipt id", [])
            submission = submission_of_entry(self.ledger, int(query), campaign=self.campaign)
            case = submission_case(self.ledger, submission, campaign=self.campaign) if submission else None
            rows = [submission_row(case.submission, case.status)] if case else []
            return Search(query, "entry or receipt id", rows)
        page = self.ledger.submissions(campaign=self.campaign, subject=query, limit=LIMIT)
        rows = [submission_row(view, view.current_status or view.status or "received") for view in page.items]
        return Search(query, "subject pseudonym", rows, more=page.next is not None)

    def case(self, submission_id: int) -> Case | None:
        """Return the submission's case file, or None when it is not a submission of this campaign."""
        if submission_id > MAX_ID:
            return None
        return submission_case(self.ledger, submission_id, campaign=self.campaign)

    def text(self, sha256: str | None) -> tuple[str, str, str] | None:
        """Return (section, language, text) of the policy text with this SHA-256, or None when the
        current policy has no such text (an older version: look it up in your archive)."""
        return self.texts.get(sha256 or "")

    def takedowns(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """Return the takedown list of the campaign (submissions whose consent was withdrawn): the first
        ``LIMIT + 1`` rows for a page (one more tells that there are more), or with ``everything``
        the whole list, page by page (an export must never leave out content that has to come down)."""
        if not everything:
            return self.ledger.takedowns(campaign=self.campaign, limit=LIMIT + 1)
        rows: list[dict[str, Any]] = []
        while page := self.ledger.takedowns(campaign=self.campaign, after=rows[-1]["submission_id"] if rows else None, limit=LIMIT):
            rows.extend(page)
        return rows

    def requests_due(self, on: dt.date, *, open_only: bool = True) -> list[dict[str, Any]]:
        """Return logged privacy requests (of this campaign or of none) with their deadlines, soonest first."""
        rows = []
        for request in self.ledger.rights_requests(open_only=open_only):
            if request.campaign not in (None, self.campaign):
                continue
            regime: Regime = "ccpa" if request.regime == "ccpa" else "gdpr"
            due = deadlines(regime, request.received)
            answer_by = due.due(extended=request.extended)
            rows.append({
                "id": request.id, "regime": request.regime, "kind": request.kind, "received": request.received.isoformat(),
                "confirm_by": due.confirm_by.isoformat() if due.confirm_by else None, "answer_by": answer_by.isoformat(),
                "days_left": (answer_by - on).days, "overdue": request.closed_on is None and answer_by < on,
                "extended": request.extended, "subject": request.subject, "reference": request.reference,
                "closed_on": request.closed_on.isoformat() if request.closed_on else None, "outcome": request.outcome,
            })
        return sorted(rows, key=lambda row: (row["answer_by"], row["id"]))

    def check_receipt(self, text: str) -> ReceiptReport:
        """Check a receipt's JSON against the ledger and, when signed, offline against the campaign's keys.
        Raises :class:`ValueError` (one line) when the text is not a receipt at all."""
        try:
            data = json.loads(text)
        except ValueError as error:  # JSONDecodeError, or an integer of more than 4300 digits
            raise ValueError(f"this is not JSON: {error}") from None
        except RecursionError:
            raise ValueError("this is not JSON a receipt can be: it is nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("not a ledger receipt: a receipt is a JSON object")
        try:
            check = self.ledger.verify_receipt(data)
        except ReceiptInvalid as error:  # not a receipt; an unreachable ledger stays a LedgerError (503)
            raise ValueError(str(error)) from None
        main = data.get("entries", [{}])[0] if data.get("format") == "ugc-guard-receipt/2" else data
        entry_id = main.get("entry_id") if isinstance(main.get("entry_id"), int) else None
        kind = main.get("kind")
        signature, signature_ok = "not signed (a receipt of the older, unsigned format)", None
        if data.get("format") == "ugc-guard-receipt/2":
            if not self.keys:
                signature, signature_ok = self.keys_note or "no keys to check signed receipts", False
            else:
                try:
                    verified = verify_receipt(data, self.keys)
                    signature, signature_ok = (f"valid: signed by key {verified.kid} of log {verified.origin}, "
                                               f"in its tree of {verified.checkpoint.size} entries"), True
                except ReceiptError as error:
                    signature, signature_ok = f"invalid: {error}", False
        problems = list(check.problems)
        if main.get("campaign") != self.campaign:  # genuine, maybe, but not this console's to vouch for
            problems.append(f"the receipt is of campaign {main.get('campaign')!r}, not of this console's campaign {self.campaign!r}")
        submission = submission_of_entry(self.ledger, entry_id, campaign=self.campaign) if entry_id is not None else None
        return ReceiptReport(entry_id, kind if isinstance(kind, str) else None, not problems, problems, signature,
                             signature_ok, submission)
