"""known devices, password reset links, device budgets

Revision ID: 0004_devices_resets
Revises: 0003_factor_change
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0004_devices_resets"
down_revision: Union[str, Sequence[str], None] = "0003_factor_change"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_dt = sqlmodel.sql.sqltypes.UTCDateTime
_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "knowndevice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _str(length=64), nullable=False),
        sa.Column("user_agent", _str(length=300), nullable=False),
        sa.Column("ip", _str(length=64), nullable=False),
        sa.Column("first_used_at", _dt(), nullable=False),
        sa.Column("last_used_at", _dt(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("knowndevice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowndevice_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowndevice_token_hash"), ["token_hash"], unique=True)
    op.create_table(
        "passwordreset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _str(length=64), nullable=False),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("expires_at", _dt(), nullable=False),
        sa.Column("ip", _str(length=64), nullable=False),
        sa.Column("factor_method", _str(length=10), nullable=True),
        sa.Column("factor_verified_at", _dt(), nullable=True),
        sa.Column("used_at", _dt(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("passwordreset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passwordreset_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_passwordreset_token_hash"), ["token_hash"], unique=True)
    with op.batch_alter_table("loginsession", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_loginsession_device_id"), ["device_id"], unique=False)
    with op.batch_alter_table("verificationcode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verificationcode", schema=None) as batch_op:
        batch_op.drop_column("device_id")
    with op.batch_alter_table("loginsession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loginsession_device_id"))
        batch_op.drop_column("device_id")
    op.drop_table("passwordreset")
    op.drop_table("knowndevice")
