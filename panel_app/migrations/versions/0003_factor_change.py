"""scheduled contact changes (a new email or phone without the old one)

Revision ID: 0003_factor_change
Revises: 0002_open_tab
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0003_factor_change"
down_revision: Union[str, Sequence[str], None] = "0002_open_tab"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "factorchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("new_value_enc", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("effective_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancelled_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("applied_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("factorchange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_factorchange_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_factorchange_effective_at"), ["effective_at"], unique=False)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("factor_change_pending", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("factor_change_pending")
    with op.batch_alter_table("factorchange", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_factorchange_effective_at"))
        batch_op.drop_index(batch_op.f("ix_factorchange_user_id"))
    op.drop_table("factorchange")
