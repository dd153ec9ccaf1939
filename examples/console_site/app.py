"""The ledger console, mounted at /console in a small Starlette app with the built-in login.

Run it with ``scripts/run-console.sh`` (http://127.0.0.1:8001/console/). Settings come from the
environment: ``UGC_GUARD_POLICY`` (default ``policies/onscreen.yaml``), ``UGC_GUARD_LEDGER`` (default:
the policy's ``ledger.url``), ``UGC_GUARD_CONSOLE_USER`` (default ``legal``) and
``UGC_GUARD_CONSOLE_PASSWORD`` (default: a random one, printed at start). Set
``UGC_GUARD_CONSOLE_OPEN_PERSONAL=1`` to give the console the site secret, so it opens personal fields.

In production, mount ``console_app(policy)`` inside your own application behind its authentication
instead of the built-in login: see docs/console.md.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from ugc_guard.console import BasicLogin, console_app, hash_password
from ugc_guard.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
policy = load_policy(os.environ.get("UGC_GUARD_POLICY", str(ROOT / "policies" / "onscreen.yaml")))
user = os.environ.get("UGC_GUARD_CONSOLE_USER", "legal")
password = os.environ.get("UGC_GUARD_CONSOLE_PASSWORD")
if not password:
    password = secrets.token_urlsafe(12)
    print(f"console login for this run (example only): user {user!r}, password {password!r}", file=sys.stderr, flush=True)
open_personal = os.environ.get("UGC_GUARD_CONSOLE_OPEN_PERSONAL") == "1" and policy.secret is not None

console = console_app(
    policy,
    database=os.environ.get("UGC_GUARD_LEDGER") or None,
    secret=policy.secret.get_secret_value() if open_personal and policy.secret else None,
    auth=BasicLogin(user, hash_password(password)),
)

app = Starlette(routes=[
    Route("/", lambda request: RedirectResponse("/console/", 303)),
    Mount("/console", console),
])
