"""domains carry a zone version, bumped by the database on every write of their zone

Revision ID: 0010_zone_version
Revises: 0009_staff_grant_method

- ``domain.zone_version``: the key of the parsed-zone cache (``services/dns_zone_cache.py``)
  in every worker. Triggers on ``dnsrecord`` and ``dnschange`` (insert, update, delete) add
  one to it in the transaction of the write, so no writer (the panel's editor, its undo, an
  import, another tool, a hand-made SQL fix) can change a zone without every worker seeing a
  new version on its next read. Domains living at the upgrade start at 0; new ones at a
  random number (``models.Domain``).

Added in place (``recreate="never"``), never by copying the table (a copied table would lose
its triggers on SQLite).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010_zone_version"
down_revision: Union[str, Sequence[str], None] = "0009_staff_grant_method"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ZONE_TABLES = ("dnsrecord", "dnschange")
_BUMP = 'UPDATE "domain" SET zone_version = zone_version + 1 WHERE id'


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_zone_version_insert AFTER INSERT ON {table} "
        f"BEGIN {_BUMP} = NEW.domain_id; END",
        f"CREATE TRIGGER {table}_zone_version_update AFTER UPDATE ON {table} "
        f"BEGIN {_BUMP} IN (OLD.domain_id, NEW.domain_id); END",
        f"CREATE TRIGGER {table}_zone_version_delete AFTER DELETE ON {table} "
        f"BEGIN {_BUMP} = OLD.domain_id; END",
    ]


_PG_FUNCTION = f"""
CREATE FUNCTION panel_bump_zone_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_BUMP} = OLD.domain_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.domain_id IS DISTINCT FROM OLD.domain_id) THEN
        {_BUMP} = NEW.domain_id;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("domain", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("zone_version", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in ZONE_TABLES:
            op.execute(f"CREATE TRIGGER {table}_zone_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION panel_bump_zone_version()")
    else:
        for table in ZONE_TABLES:
            for statement in _sqlite_triggers(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ZONE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_zone_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS panel_bump_zone_version()")
    else:
        for table in ZONE_TABLES:
            for kind in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_zone_version_{kind}")
    with op.batch_alter_table("domain", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("zone_version")
