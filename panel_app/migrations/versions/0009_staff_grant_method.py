"""staff grants remember how they were opened

Revision ID: 0009_staff_grant_method
Revises: 0008_passkeys

- ``staffsession.grant_method``: ``totp`` (the app) or ``passkey`` (a passkey or security
  key). With ``PANEL_STAFF_REQUIRE_PASSKEY=1`` only a passkey grant opens the console; an app
  grant of a staff member without a passkey lets them add one and nothing else
  (``security/staff.py``). Grants live at the upgrade have none: they count as the app's.

Added in place (``recreate="never"``), never by copying the table.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0009_staff_grant_method"
down_revision: Union[str, Sequence[str], None] = "0008_passkeys"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("staffsession", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("grant_method", _str(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staffsession", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("grant_method")
