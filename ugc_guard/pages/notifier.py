"""How a guardian gets the confirmation link: written to the log, or sent by e-mail.

A notifier is any object with ``async def send_guardian_link(message)``; replace a site's with
:func:`ugc_guard.pages.set_notifier` (tests capture links that way).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

import anyio

from .catalog import gettext
from .render import readable_time

if TYPE_CHECKING:
    from ..policy.models import Notifier as NotifierSettings
    from ..policy.models import SmtpNotifier as SmtpSettings

__all__ = ["GuardianMessage", "LogNotifier", "Notifier", "SmtpNotifier", "notifier_from_policy"]

logger = logging.getLogger("ugc_guard.pages")


@dataclass(frozen=True, slots=True)
class GuardianMessage:
    to: str
    link: str
    campaign_name: str
    language: str
    expires_at: str
    """ISO 8601 UTC time after which the link no longer works."""


class Notifier(Protocol):
    async def send_guardian_link(self, message: GuardianMessage) -> None: ...


class LogNotifier:
    """Writes the link to the ``ugc_guard.pages`` log (development: no mail server needed)."""

    async def send_guardian_link(self, message: GuardianMessage) -> None:
        logger.warning("ugc_guard: guardian confirmation link for %s (valid until %s): %s", message.to, message.expires_at, message.link)


class SmtpNotifier:
    """Sends the link by e-mail with the standard library, in a worker thread."""

    def __init__(self, settings: SmtpSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def build(self, message: GuardianMessage) -> EmailMessage:
        """Return the e-mail for ``message`` in its language (English when there is no catalog for it)."""
        language = message.language
        email = EmailMessage()
        email["From"] = str(self.settings.sender)
        email["To"] = message.to
        # one line whatever the campaign name holds: a line break in a header value would stop the e-mail being built at all
        email["Subject"] = " ".join(gettext(language, "mail_subject", campaign=message.campaign_name).split())
        email.set_content(gettext(language, "mail_body", campaign=message.campaign_name, link=message.link,
                                  expires=readable_time(message.expires_at, language)))
        return email

    async def send_guardian_link(self, message: GuardianMessage) -> None:
        email = self.build(message)
        await anyio.to_thread.run_sync(self._send, email)

    def _send(self, email: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.host, settings.port, timeout=self.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username and settings.password is not None:
                smtp.login(settings.username, settings.password.get_secret_value())
            smtp.send_message(email)


def notifier_from_policy(settings: NotifierSettings) -> Notifier:
    """Return the notifier ``age.notifier`` configures."""
    if settings.kind == "smtp" and settings.smtp is not None:
        return SmtpNotifier(settings.smtp)
    return LogNotifier()
