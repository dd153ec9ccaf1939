"""What both example sites share: where policies and uploads live, the campaign look, the steps of the
home page (terms and age first, then the file), storing a file and the receipt page."""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ugc_guard import Policy, load_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY = os.environ.get("UGC_GUARD_POLICY", str(ROOT / "policies" / "onscreen.yaml"))
UPLOAD_DIR = Path(os.environ.get("UGC_GUARD_UPLOAD_DIR", ROOT / "examples" / "uploads"))
EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm",
    "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/wav": ".wav", "audio/x-wav": ".wav", "text/plain": ".txt",
}  # fmt: skip
ASKS = {
    "onscreen": "Send a selfie, a short video or a voice clip, and you could be on screen during the live show.",
    "open-casting": "Send a short audition clip or a photo of yourself. Our casting team watches every entry.",
}
"""What each example campaign asks for, by campaign id."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>:root{{--primary:{primary};--background:{background};--text:{text}}}
body{{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto 2rem;padding:0 1rem;line-height:1.5;
color:var(--text);background:var(--background)}}
header{{display:flex;align-items:center;gap:.8rem;border-bottom:4px solid var(--primary);padding:.8rem 0;margin-bottom:1rem}}
header img{{max-height:3rem}} header .name{{font-weight:700;font-size:1.2rem}} a{{color:var(--primary)}}
fieldset{{margin:1rem 0}} label{{display:block;margin:.4rem 0}}
button,.button{{font-size:1rem;padding:.6rem 1.2rem;background:var(--primary);color:var(--background);border:0;border-radius:4px;
text-decoration:none;display:inline-block;cursor:pointer}}
ol.steps li{{margin:.3rem 0}} .done{{text-decoration:line-through}}
:focus-visible{{outline:3px solid var(--primary);outline-offset:2px}}</style></head>
<body><header>{logo}<span class="name">{name}</span></header><main id="main">{body}</main>
<footer><p><a href="{prefix}/me">My data</a> · <a href="{prefix}/terms">Terms</a></p></footer></body></html>"""

FORM = """<form method="post" action="/upload" enctype="multipart/form-data">
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


@cache
def policy() -> Policy:
    """Return the site's policy (the same file UGCGuard loads), for its name, look and prefix."""
    return load_policy(POLICY)


def page(title: str, body: str) -> str:
    """Return a whole page in the campaign's look."""
    site = policy()
    look = site.look
    logo = f'<img src="{html.escape(look.logo)}" alt="{html.escape(look.logo_alt)}">' if look.logo else ""
    colours = look.colours
    return PAGE.format(title=html.escape(title), body=body, name=html.escape(look.name or site.campaign.name), logo=logo,
                       primary=colours.primary, background=colours.background, text=colours.text, prefix=site.prefix)


async def gate_status(app: Callable[..., Awaitable[None]], scope: MutableMapping[str, Any]) -> dict[str, Any]:
    """Return the visitor's ``GET {prefix}/status`` (their standing), asked of the app with UGCGuard in front,
    with the visitor's own cookies; the site never reads the subject cookie itself."""
    prefix = policy().prefix
    inner = {**scope, "method": "GET", "path": prefix + "/status", "raw_path": (prefix + "/status").encode(), "query_string": b"",
             "headers": [(name, value) for name, value in scope["headers"] if name in (b"host", b"cookie", b"user-agent")]}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(inner, receive, send)
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        return {"missing": ["terms"]}
    return answer if isinstance(answer, dict) else {"missing": ["terms"]}


def home_page(status: dict[str, Any]) -> str:
    """Return the home page: the terms and age step first for a visitor without standing (so no file
    is chosen and then lost on the way), the upload form once they may send."""
    site = policy()
    name = html.escape(site.look.name or site.campaign.name)
    ask = f"<h1>{name}</h1><p>{html.escape(ASKS.get(site.campaign.id, 'Send us a photo, a video or a voice clip.'))}</p>"
    missing = status.get("missing") or []
    terms_url = f"{site.prefix}/terms?next=/"
    if "guardian-consent" in missing and not {"terms", "age"} & set(missing):
        waiting = status.get("guardians_required", 1) - status.get("guardians_confirmed", 0)
        who = "your parent or guardian has" if waiting == 1 else f"{waiting} parents or guardians have"
        return page(f"{site.campaign.name}: waiting", ask + f'<p id="waiting">You accepted the terms. You can send your file once {who} '
                    f'confirmed by e-mail.</p><p><a href="{terms_url}">See your receipt</a></p>')
    if missing:
        steps = ('<ol class="steps"><li><strong>Read the terms and tell us your age</strong> (before you choose a file)</li>'
                 "<li>Choose your file and send it</li></ol>")
        start = f'<p><a class="button" id="start" href="{terms_url}">Start: read the terms</a></p>'
        return page(site.campaign.name, ask + steps + start)
    steps = ('<ol class="steps"><li class="done">Read the terms and tell us your age</li>'
             "<li><strong>Choose your file and send it</strong></li></ol>")
    return page(site.campaign.name, ask + steps + FORM)


def store(submission: Any, data: bytes) -> Path:
    """Store the bytes received under their own hash; the client's file name is never used as a path."""
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    target = UPLOAD_DIR / f"{hashlib.sha256(data).hexdigest()}{EXTENSIONS.get(submission.type, '.bin')}"
    target.write_bytes(data)
    return target


def _when(text: Any) -> str:
    from ugc_guard.pages.render import readable_time

    try:
        return readable_time(str(text), "en")
    except ValueError:
        return str(text)


def receipt_page(submission: Any) -> str:
    """Return the receipt in words (what was granted, under which text, when) with the signed JSON as a download."""
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
                     f"recorded {html.escape(_when(entry.get('recorded_at')))}</li>")
    download = "data:application/json;charset=utf-8," + quote(text)
    prefix = policy().prefix
    return page(
        "Thank you",
        f"<h1>Thank you, we received your file</h1><p>Submission <code>{html.escape(str(submission.id))}</code>, "
        f"SHA-256 <code>{html.escape(submission.sha256)}</code>.</p>"
        f"<p>Recorded in the campaign's signed log:</p><ul>{''.join(lines)}</ul>"
        f'<p><a download="receipt-{html.escape(str(submission.id))}.json" href="{html.escape(download)}">Download your receipt</a>: '
        "it proves which licence you granted, and anyone can check it with <code>ugc-guard proof verify</code>.</p>"
        f"<details><summary>The receipt as JSON</summary><pre>{html.escape(text)}</pre></details>"
        f'<p><a href="/">Send another file</a> · <a href="{prefix}/me">My data</a></p>',
    )
