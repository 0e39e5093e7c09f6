"""Send an issued code and store how its delivery went.

Runs as a background task after the issuing transaction committed: network I/O
never holds a transaction or the user's event queue.
"""

from __future__ import annotations

import asyncio

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery import CodeMessage, DeliveryResult, deliver_code, record_delivery
from panel_app.security.permissions import Area
from panel_app.services.audit import Actor, record


def _store(code_id: int, result: DeliveryResult, actor: Actor, channel: str) -> None:
    with transaction() as db:
        record_delivery(db, code_id, result)
        if result.ok:
            record(db, actor, Area.AUTH, "code_delivered_to_provider", now=utcnow(), channel=channel,
                   transport=result.transport)
        else:
            record(db, actor, Area.AUTH, "code_delivery_failed", now=utcnow(), channel=channel,
                   error=result.error_code)


async def deliver_and_record(message: CodeMessage, actor: Actor) -> DeliveryResult:
    result = await deliver_code(message)
    await asyncio.to_thread(_store, message.code_id, result, actor, message.channel)
    return result
