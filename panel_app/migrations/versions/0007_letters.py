"""letters by post; four-eyes requests name the app they remove

Revision ID: 0007_letters
Revises: 0006_authenticator

- ``postalletter``: a one-time code by post (keyed hash only) bound to a user, a ticket and
  the support-made change it completes (``services/postal_letters.py``).
- ``outboxmessage.attachment_name`` / ``attachment``: the demo outbox holds the letter's PDF.
- ``user.factor_removed_at``: when a second factor was last removed (``factor_rules``).
- ``factorchange.ticket_id``: the support ticket a change was scheduled from (its letter
  completes it).
- ``staffrequest.authenticator_id`` / ``authenticator_fingerprint``: the app a removal
  request names. Requests still pending at the upgrade have none and can only be rejected
  (``decide`` refuses them as stale): they name no app, so no app may be removed by them.

Columns are added and dropped in place (``recreate="never"``, SQLite >= 3.35), never by
copying a table.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0007_letters"
down_revision: Union[str, Sequence[str], None] = "0006_authenticator"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_dt = sqlmodel.sql.sqltypes.UTCDateTime
_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "postalletter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("factor_change_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", _str(length=64), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("expires_at", _dt(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", _dt(), nullable=True),
        sa.Column("delivery_reference", _str(length=100), nullable=False),
        sa.ForeignKeyConstraint(["factor_change_id"], ["factorchange.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["staffuser.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_postalletter_ticket_id"), "postalletter", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_postalletter_user_id"), "postalletter", ["user_id"], unique=False)

    with op.batch_alter_table("outboxmessage", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("attachment_name", _str(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))

    with op.batch_alter_table("factorchange", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("user", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("factor_removed_at", _dt(), nullable=True))

    with op.batch_alter_table("staffrequest", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("authenticator_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("authenticator_fingerprint", _str(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staffrequest", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("authenticator_fingerprint")
        batch_op.drop_column("authenticator_id")

    with op.batch_alter_table("user", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("factor_removed_at")

    with op.batch_alter_table("factorchange", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("ticket_id")

    with op.batch_alter_table("outboxmessage", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("attachment")
        batch_op.drop_column("attachment_name")

    op.drop_index(op.f("ix_postalletter_user_id"), table_name="postalletter")
    op.drop_index(op.f("ix_postalletter_ticket_id"), table_name="postalletter")
    op.drop_table("postalletter")
