"""passkeys: WebAuthn credentials of customers and staff, and their challenges

Revision ID: 0008_passkeys
Revises: 0007_letters

- ``webauthncredential``: a passkey or security key of a user or a staff member
  (``services/passkeys.py``).
- ``webauthnchallenge``: single-use, 2-minute challenges bound to a purpose and a session
  (or, before sign-in, a keyed hash of the browser's pre-login cookie or of the reset).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0008_passkeys"
down_revision: Union[str, Sequence[str], None] = "0007_letters"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_dt = sqlmodel.sql.sqltypes.UTCDateTime
_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "webauthncredential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("credential_id", _str(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", _str(length=200), nullable=False),
        sa.Column("aaguid", _str(length=36), nullable=False),
        sa.Column("synced", sa.Boolean(), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("name", _str(length=60), nullable=False),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("last_used_at", _dt(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staffuser.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webauthncredential_credential_id"), "webauthncredential", ["credential_id"],
                    unique=True)
    op.create_index(op.f("ix_webauthncredential_staff_id"), "webauthncredential", ["staff_id"], unique=False)
    op.create_index(op.f("ix_webauthncredential_user_id"), "webauthncredential", ["user_id"], unique=False)
    op.create_table(
        "webauthnchallenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge", _str(length=100), nullable=False),
        sa.Column("purpose", _str(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("staff_session_id", sa.Integer(), nullable=True),
        sa.Column("binding_hash", _str(length=64), nullable=True),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("expires_at", _dt(), nullable=False),
        sa.Column("used_at", _dt(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webauthnchallenge_challenge"), "webauthnchallenge", ["challenge"], unique=True)
    op.create_index(op.f("ix_webauthnchallenge_user_id"), "webauthnchallenge", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_webauthnchallenge_user_id"), table_name="webauthnchallenge")
    op.drop_index(op.f("ix_webauthnchallenge_challenge"), table_name="webauthnchallenge")
    op.drop_table("webauthnchallenge")
    op.drop_index(op.f("ix_webauthncredential_user_id"), table_name="webauthncredential")
    op.drop_index(op.f("ix_webauthncredential_staff_id"), table_name="webauthncredential")
    op.drop_index(op.f("ix_webauthncredential_credential_id"), table_name="webauthncredential")
    op.drop_table("webauthncredential")
