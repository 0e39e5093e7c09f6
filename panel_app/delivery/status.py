"""Where a code's message stands: the send result, then provider callbacks (webhook).

Both functions take the caller's session and flush, never commit. A status only moves
forward (see ``STATUS_RANK``): callbacks arrive out of order and are retried.
"""

from __future__ import annotations

from sqlmodel import Session, select

from panel_app.delivery.base import STATUS_FAILED, STATUS_RANK, DeliveryResult
from panel_app.models import VerificationCode

_MAX_ERROR = 40
_MAX_PROVIDER_ID = 200


def _moves_forward(current: str, new: str) -> bool:
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, 0)


def record_delivery(db: Session, code_id: int, result: DeliveryResult) -> VerificationCode | None:
    """Store the outcome of sending code ``code_id``; ``None`` when the code is gone."""
    code = db.get(VerificationCode, code_id)
    if code is None:
        return None
    if result.provider_message_id and not code.provider_message_id:
        code.provider_message_id = result.provider_message_id[:_MAX_PROVIDER_ID]
    if _moves_forward(code.delivery_status, result.status):
        code.delivery_status = result.status
        code.delivery_error = (result.error_code or "")[:_MAX_ERROR] if result.status == STATUS_FAILED else ""
    db.add(code)
    db.flush()
    return code


def apply_status_update(
    db: Session, provider_message_id: str, status: str, error_code: str | None = None
) -> bool:
    """Apply one provider status (sent, delivered, read, failed) to the code(s) sent as
    ``provider_message_id``. Returns whether anything changed; unknown ids and statuses,
    repeats and steps backwards change nothing."""
    if not provider_message_id or status not in STATUS_RANK:
        return False
    message_id = provider_message_id[:_MAX_PROVIDER_ID]
    codes = db.exec(select(VerificationCode).where(VerificationCode.provider_message_id == message_id)).all()
    changed = False
    for code in codes:
        if not _moves_forward(code.delivery_status, status):
            continue
        code.delivery_status = status
        code.delivery_error = (error_code or "")[:_MAX_ERROR] if status == STATUS_FAILED else ""
        db.add(code)
        changed = True
    if changed:
        db.flush()
    return changed


def sessions_waiting_for(db: Session, provider_message_ids: list[str]) -> list[int]:
    """Login sessions whose codes were sent as these messages (their gates show the status)."""
    ids = [m[:_MAX_PROVIDER_ID] for m in provider_message_ids if m]
    if not ids:
        return []
    rows = db.exec(select(VerificationCode.session_id).where(VerificationCode.provider_message_id.in_(ids))).all()
    return sorted({row for row in rows if row is not None})
