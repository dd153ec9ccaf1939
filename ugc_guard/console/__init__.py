"""A read-only web console of the acceptance ledger for legal and privacy staff (docs/console.md).

Mount :func:`console_app` inside your application, behind your own authentication
(``scope["user"]``), or with the built-in :class:`BasicLogin`.
"""

from __future__ import annotations

from .app import console_app
from .auth import BasicLogin, ConsoleAuth, Session, UpstreamAuth, hash_password, verify_password

__all__ = ["BasicLogin", "ConsoleAuth", "Session", "UpstreamAuth", "console_app", "hash_password", "verify_password"]
