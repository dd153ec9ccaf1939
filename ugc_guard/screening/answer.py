"""Holding the app's answer to an upload until the ledger has confirmed it.

The app's 2xx start message is held back until ``confirm`` has recorded the submission as stored.
When that fails, the client gets ``refusal`` instead (the upload does not count as stored) and the
rest of the app's answer is dropped, so a client is never told 2xx for a submission the ledger
leaves unconfirmed. Other answers pass straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Confirm", "confirming"]

Confirm = Callable[[int], Awaitable[bool]]
"""Called with the app's 2xx status; returns whether the ledger recorded the confirmation."""


def confirming(confirm: Confirm, refusal: ASGIApp, scope: Scope, receive: Receive) -> Callable[[Send], Send]:
    """Return a send filter (see :attr:`RequestContext.send_filters`) that confirms before a 2xx goes out."""

    def wrap(send: Send) -> Send:
        replaced = False

        async def held(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300 and not await confirm(message["status"]):
                replaced = True
                await refusal(scope, receive, send)
                return
            await send(message)

        return held

    return wrap
