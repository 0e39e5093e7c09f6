"""authenticator: a customer's app secret in its own table, no longer on the user

Revision ID: 0006_authenticator
Revises: 0005_staff

Data migration: every user with an app secret (active or waiting for its first code)
gets one ``authenticator`` row of type ``totp`` holding what the ``user.totp_*`` columns
held; downgrade writes it back. Plain SQL expressions (INSERT ... SELECT, correlated
UPDATE), the same on SQLite and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0006_authenticator"
down_revision: Union[str, Sequence[str], None] = "0005_staff"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_dt = sqlmodel.sql.sqltypes.UTCDateTime
_str = sqlmodel.sql.sqltypes.AutoString
TOTP = "totp"

# The columns as this migration knows them (never the models: they move on).
_user = sa.table(
    "user",
    sa.column("id", sa.Integer()),
    sa.column("created_at", _dt()),
    sa.column("totp_secret_enc", _str()),
    sa.column("totp_enabled_at", _dt()),
    sa.column("totp_last_step", sa.Integer()),
    sa.column("totp_pending_secret_enc", _str()),
)
_authenticator = sa.table(
    "authenticator",
    sa.column("id", sa.Integer()),
    sa.column("user_id", sa.Integer()),
    sa.column("type", _str()),
    sa.column("secret_enc", _str()),
    sa.column("pending_secret_enc", _str()),
    sa.column("created_at", _dt()),
    sa.column("confirmed_at", _dt()),
    sa.column("last_step", sa.Integer()),
)
_COPIED = (("totp_secret_enc", "secret_enc"), ("totp_pending_secret_enc", "pending_secret_enc"),
           ("totp_enabled_at", "confirmed_at"), ("totp_last_step", "last_step"))


def upgrade() -> None:
    op.create_table(
        "authenticator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("type", _str(length=20), nullable=False),
        sa.Column("secret_enc", _str(length=500), nullable=True),
        sa.Column("pending_secret_enc", _str(length=500), nullable=True),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("confirmed_at", _dt(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "type", name="uq_authenticator_user_type"),
    )
    has_secret = sa.or_(_user.c.totp_secret_enc.is_not(None), _user.c.totp_pending_secret_enc.is_not(None))
    op.execute(
        _authenticator.insert().from_select(
            ["user_id", "type", "secret_enc", "pending_secret_enc", "created_at", "confirmed_at", "last_step"],
            sa.select(
                _user.c.id, sa.literal(TOTP, _str()), _user.c.totp_secret_enc, _user.c.totp_pending_secret_enc,
                # When the set-up began is not known: the app's confirmation, else the account's start.
                sa.func.coalesce(_user.c.totp_enabled_at, _user.c.created_at), _user.c.totp_enabled_at,
                _user.c.totp_last_step,
            ).where(has_secret),
        )
    )
    # Never a copy of the table (SQLite's batch mode): "user" is referenced by most tables,
    # and dropping it for the copy breaks their foreign keys. SQLite >= 3.35 drops columns.
    with op.batch_alter_table("user", schema=None, recreate="never") as batch_op:
        for old, _new in _COPIED:
            batch_op.drop_column(old)


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("totp_secret_enc", _str(length=500), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", _dt(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("totp_pending_secret_enc", _str(length=500), nullable=True))
    app = _authenticator.alias("app")

    def of_the_users_app(column):
        return (sa.select(column).where(app.c.user_id == _user.c.id, app.c.type == TOTP)
                .scalar_subquery())

    op.execute(
        _user.update()
        .where(sa.exists().where(app.c.user_id == _user.c.id, app.c.type == TOTP))
        .values({old: of_the_users_app(app.c[new]) for old, new in _COPIED})
    )
    op.drop_table("authenticator")
