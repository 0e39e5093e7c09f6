"""What the email and WhatsApp methods share: a one-time code sent to an address or
number of the user (``security/codes.py``), bound to its scope and channel."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from panel_app.models import User
from panel_app.security import codes
from panel_app.services.methods.base import CodeScope, MethodCheck, StepUpMethod


class SentCodeMethod(StepUpMethod):
    sends_code = True
    capped_per_user = False  # the mailbox's own budget: per browser (known or unknown)
    channel: str  # the delivery channel, also the method's name

    def is_available(self, db: Session, user: User) -> bool:
        return self.destination(user) is not None

    def challenge(self, db: Session, *, user: User, scope: CodeScope, now: datetime,
                  device_id: int | None) -> codes.IssueOutcome:
        return codes.issue_code(db, user=user, session_id=scope.session_id, purpose=scope.purpose,
                                channel=self.channel, destination=self.destination(user) or "", now=now,
                                device_id=device_id)

    def nothing_to_compare(self, db: Session, *, user: User, scope: CodeScope,
                           now: datetime) -> MethodCheck | None:
        row = codes.live_code(db, user_id=user.id, session_id=scope.session_id, purpose=scope.purpose,
                              channel=self.channel)
        state = codes.code_state(row, now)
        return None if state is None else MethodCheck(ok=False, reason=state, error_key=codes.error_key_for(state))

    def verify(self, db: Session, *, user: User, scope: CodeScope, value: str, now: datetime) -> MethodCheck:
        outcome = codes.check_code(db, user=user, session_id=scope.session_id, purpose=scope.purpose,
                                   submitted=value, now=now, channel=self.channel)
        return MethodCheck(ok=outcome.ok, reason=outcome.reason, error_key=outcome.error_key,
                           tries_left=outcome.tries_left)
