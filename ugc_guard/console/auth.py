"""Who may use the console.

:class:`UpstreamAuth` (the default) trusts the application the console is mounted in: a request
needs ``scope["user"]`` set by that application's authentication (Starlette's
``AuthenticationMiddleware`` or anything that sets it) with ``is_authenticated`` true; without it
every request is refused with 401 ``console-login-required``. :class:`BasicLogin` is a small
built-in login for examples and single-operator sites: one user name, a scrypt password hash, a
signed session cookie, and a lockout after repeated failures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection

__all__ = ["BasicLogin", "ConsoleAuth", "Session", "UpstreamAuth", "hash_password", "verify_password"]

SESSION_COOKIE = "ugc_console"


@dataclass(frozen=True, slots=True)
class Session:
    """The person using the console: a name to show, and the form token their POSTs must carry."""

    user: str
    csrf: str


class ConsoleAuth(Protocol):
    """How the console learns who is asking."""

    login_form: bool
    """Whether the console serves its own login page (else it refuses unauthenticated requests)."""

    def session(self, connection: HTTPConnection) -> Session | None:
        """Return the session of the request, or None when nobody is signed in."""


class UpstreamAuth:
    """Trust the surrounding application's authentication (``scope["user"].is_authenticated``).

    POSTs (receipt verification) carry a form token derived from ``key`` and the user name, so a
    cross-site form cannot use the operator's session."""

    login_form = False

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)

    def session(self, connection: HTTPConnection) -> Session | None:
        user: Any = connection.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        name = str(getattr(user, "display_name", "") or getattr(user, "identity", "") or "signed in")
        token = hmac.new(self.key, b"console-csrf\0" + name.encode(), hashlib.sha256).hexdigest()
        return Session(name, token)


def hash_password(password: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """Return a scrypt hash of ``password`` (``scrypt$n$r$p$salt$hash``) for :class:`BasicLogin`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    encode = base64.urlsafe_b64encode
    return f"scrypt${n}${r}${p}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Return whether ``password`` matches a :func:`hash_password` hash (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = hashed.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class BasicLogin:
    """A one-form login: ``username`` and a :func:`hash_password` hash. A signed, HttpOnly,
    SameSite=Strict session cookie lasts ``max_age`` seconds. After ``max_failures`` wrong passwords
    from one client (or for the user name from anywhere, times four) within ``lockout`` seconds,
    logins are refused (429) until the window passes.

    Raises :class:`ValueError` for an empty user name or a hash that is not a scrypt hash."""

    login_form = True

    def __init__(self, username: str, password_hash: str, *, key: bytes | str | None = None, max_age: int = 8 * 3600,
                 max_failures: int = 5, lockout: float = 900.0, secure_cookie: bool | None = None) -> None:
        if not username:
            raise ValueError("BasicLogin needs a user name")
        if not password_hash.startswith("scrypt$") or password_hash.count("$") != 5:
            raise ValueError("BasicLogin needs a password hash from ugc_guard.console.hash_password(), not a password")
        self.username = username
        self.password_hash = password_hash
        self.max_age = max_age
        self.max_failures = max_failures
        self.lockout = lockout
        self.secure_cookie = secure_cookie
        self.key_is_random = key is None
        self._serializer = URLSafeTimedSerializer(key or secrets.token_bytes(32), salt="ugc-guard-console-session")
        self._failures: dict[str, deque[float]] = {}
        self._ended: dict[str, float] = {}
        """Sessions signed out (their form token, unique per session) -> when their cookie expires anyway."""

    def use_key(self, key: bytes | None) -> None:
        """Sign sessions with ``key`` (the console derives one from the site secret, so sessions
        survive a restart); without one a random key is kept."""
        if key is not None:
            self._serializer = URLSafeTimedSerializer(key, salt="ugc-guard-console-session")
            self.key_is_random = False

    def session(self, connection: HTTPConnection) -> Session | None:
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("u") != self.username or not isinstance(data.get("c"), str):
            return None
        if data["c"] in self._ended:
            return None
        return Session(self.username, data["c"])

    def end_session(self, session: Session) -> None:
        """Refuse ``session``'s cookie from now on (signing out): the browser deletes it, and a copy of
        it (kept by whoever read it) signs nobody in. Held in this process's memory until the cookie
        would have expired anyway, like the lockout counters."""
        now = time.time()
        self._ended = {token: until for token, until in self._ended.items() if until > now}
        self._ended[session.csrf] = now + self.max_age

    def new_session(self) -> tuple[str, Session]:
        """Return a new session cookie value and its session."""
        session = Session(self.username, secrets.token_urlsafe(24))
        return self._serializer.dumps({"u": session.user, "c": session.csrf}), session

    def locked(self, client: str) -> bool:
        """Return whether logins from ``client`` (or for the user name) are locked out right now."""
        now = time.monotonic()
        return (len(self._recent(client, now)) >= self.max_failures
                or len(self._recent("", now)) >= 4 * self.max_failures)

    def check(self, client: str, username: str, password: str) -> bool:
        """Return whether the credentials are right; count a failure against ``client`` when not."""
        # the hash runs for a wrong user name too, so timing does not tell which part was wrong
        good = verify_password(password, self.password_hash) & hmac.compare_digest(username.encode(), self.username.encode())
        if not good:
            now = time.monotonic()
            for name in (client, ""):
                self._recent(name, now).append(now)
            if len(self._failures) > 10_000:  # a flood of clients: keep the name-wide counter, drop the rest
                self._failures = {"": self._failures[""]}
        return good

    def _recent(self, name: str, now: float) -> deque[float]:
        times = self._failures.setdefault(name, deque())
        while times and now - times[0] > self.lockout:
            times.popleft()
        return times
