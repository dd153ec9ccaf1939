"""What both example sites share: where policies and uploads live, the form, storing a file."""

from __future__ import annotations

import hashlib
import html
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
POLICY = os.environ.get("UGC_GUARD_POLICY", str(ROOT / "policies" / "onscreen.yaml"))
UPLOAD_DIR = Path(os.environ.get("UGC_GUARD_UPLOAD_DIR", ROOT / "examples" / "uploads"))
EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm",
    "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/wav": ".wav", "audio/x-wav": ".wav", "text/plain": ".txt",
}  # fmt: skip

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
fieldset{{margin:1rem 0}} label{{display:block;margin:.4rem 0}} button{{font-size:1rem;padding:.5rem 1rem}}
:focus-visible{{outline:3px solid #1a5fb4;outline-offset:2px}}</style></head>
<body><main>{body}</main></body></html>"""

FORM = """<h1>On Screen Now</h1>
<p>Send a selfie, a short video or a voice clip. First time here? You will be asked to read and accept
the <a href="/ugc-guard/terms">terms</a>. <a href="/ugc-guard/me">My data</a>.</p>
<form method="post" action="/upload" enctype="multipart/form-data">
  <label for="media">Your file</label>
  <input id="media" name="media" type="file" required accept="image/*,video/*,audio/*,text/plain">
  <fieldset><legend>Rights</legend>
    <label><input type="checkbox" name="ugc_licence" value="accept" required> I grant the content licence shown with the terms.</label>
    <label><input type="checkbox" name="ugc_portrait_self" value="accept" required> I consent to the use of my own portrait.</label>
  </fieldset>
  <fieldset><legend>Other people in the file</legend>
    <label><input type="radio" name="ugc_portrait_others" value="none" required> Nobody else can be recognised.</label>
    <label><input type="radio" name="ugc_portrait_others" value="all-consented"> Everyone else who can be recognised agreed.</label>
  </fieldset>
  <button type="submit">Upload</button>
</form>"""


def page(title: str, body: str) -> str:
    return PAGE.format(title=html.escape(title), body=body)


def store(submission: Any, data: bytes) -> Path:
    """Store the bytes received under their own hash; the client's file name is never used as a path."""
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    target = UPLOAD_DIR / f"{hashlib.sha256(data).hexdigest()}{EXTENSIONS.get(submission.type, '.bin')}"
    target.write_bytes(data)
    return target


def receipt_page(submission: Any) -> str:
    receipt = submission.as_dict()["receipt"]
    text = json.dumps(receipt, indent=2)
    lines = []
    for entry in receipt.get("entries", []):
        summary = entry.get("summary", {})
        what = {"submission": "your file", "licence_grant": "the content licence you granted",
                "portrait_grant": "your portrait consent"}.get(entry.get("kind"), entry.get("kind", ""))
        detail = ""
        if "licence_id" in summary:
            detail = f" ({html.escape(str(summary['licence_id']))} {html.escape(str(summary.get('licence_version', '')))})"
        lines.append(f"<li>{html.escape(what)}{detail}: entry {html.escape(str(entry.get('entry_id')))}, "
                     f"recorded {html.escape(str(entry.get('recorded_at')))}</li>")
    download = "data:application/json;charset=utf-8," + quote(text)
    return page(
        "Thank you",
        f"<h1>Thank you, we received your file</h1><p>Submission <code>{html.escape(str(submission.id))}</code>, "
        f"SHA-256 <code>{html.escape(submission.sha256)}</code>.</p>"
        f"<p>Recorded in the campaign's signed log:</p><ul>{''.join(lines)}</ul>"
        f'<p><a download="receipt-{html.escape(str(submission.id))}.json" href="{html.escape(download)}">Download your receipt</a>: '
        "it proves which licence you granted, and anyone can check it with <code>ugc-guard proof verify</code>.</p>"
        f"<details><summary>The receipt as JSON</summary><pre>{html.escape(text)}</pre></details>"
        '<p><a href="/">Send another file</a> · <a href="/ugc-guard/me">My data</a></p>',
    )
