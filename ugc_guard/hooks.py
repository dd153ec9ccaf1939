"""Calling the policy's hooks: a Python callable (``package.module:function``) or a webhook URL.

Hooks tell the app to unpublish withdrawn content or delete files. A hook that fails raises
:class:`HookFailed`; callers record the action as not done, so a re-run tries again.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import anyio

__all__ = ["HookFailed", "call_hook", "call_hook_sync", "resolve_callable"]


class HookFailed(Exception):
    """The hook raised, timed out or answered with a non-2xx status."""


def resolve_callable(target: str) -> Callable[..., Any]:
    """Import ``package.module:function``; raises HookFailed when it cannot be found."""
    module_name, _, attribute = target.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise HookFailed(f"hook {target}: cannot import it ({error})") from None
    if not callable(function):
        raise HookFailed(f"hook {target}: is not callable")
    return function  # type: ignore[no-any-return]


def _post(url: str, event: dict[str, Any], timeout: float) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(event, default=str).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise HookFailed(f"webhook {url}: answered {response.status}")
    except urllib.error.HTTPError as error:
        raise HookFailed(f"webhook {url}: answered {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise HookFailed(f"webhook {url}: {getattr(error, 'reason', error)}") from None


async def call_hook(target: str | Callable[..., Any], event: dict[str, Any], *, timeout: float = 10.0) -> None:
    """Deliver ``event`` to the hook: a callable (sync ones run in a worker thread), or a JSON POST.

    Raises :class:`HookFailed` on any failure, including taking longer than ``timeout`` seconds.
    """
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        await anyio.to_thread.run_sync(_post, target, event, timeout)
        return
    function = resolve_callable(target) if isinstance(target, str) else target
    try:
        with anyio.fail_after(timeout):
            if inspect.iscoroutinefunction(function):
                await function(event)
            else:
                await anyio.to_thread.run_sync(function, event)
    except TimeoutError:
        raise HookFailed(f"hook {target}: no answer within {timeout:g} s") from None
    except HookFailed:
        raise
    except Exception as error:
        raise HookFailed(f"hook {target}: {type(error).__name__}: {error}") from error


def call_hook_sync(target: str | Callable[..., Any], event: dict[str, Any], *, timeout: float = 10.0) -> None:
    """:func:`call_hook` for synchronous callers (the CLI, cron jobs); never call it on an event loop.

    Raises :class:`HookFailed` like :func:`call_hook`.
    """
    anyio.run(functools.partial(call_hook, target, event, timeout=timeout))
