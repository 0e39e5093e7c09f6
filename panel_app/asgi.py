"""ASGI plumbing shared by the panel's HTTP middlewares (security headers, request log)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Message = dict
Send = Callable[[Message], Awaitable[None]]


def on_response_start(send: Send, hook: Callable[[Message], None]) -> Send:
    """``send`` that first lets ``hook`` see, and change, the response's start message
    (its status and headers) before it leaves; the body passes untouched."""

    async def send_started(message: Message) -> None:
        if message["type"] == "http.response.start":
            hook(message)
        await send(message)

    return send_started
