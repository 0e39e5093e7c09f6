"""open tabs bound to login sessions (server-side wipe and push)

Revision ID: 0002_open_tab
Revises: 0001_initial
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0002_open_tab"
down_revision: Union[str, Sequence[str], None] = "0001_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "opentab",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("login_session_id", sa.Integer(), nullable=False),
        sa.Column("holds_sensitive", sa.Boolean(), nullable=False),
        sa.Column("shows_grant_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["login_session_id"], ["loginsession.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opentab", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opentab_client_token"), ["client_token"], unique=True)
        batch_op.create_index(batch_op.f("ix_opentab_login_session_id"), ["login_session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opentab_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("opentab", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opentab_due_at"))
        batch_op.drop_index(batch_op.f("ix_opentab_login_session_id"))
        batch_op.drop_index(batch_op.f("ix_opentab_client_token"))
    op.drop_table("opentab")
