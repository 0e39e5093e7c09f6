"""issued invoices keep their buyer and seller; recovery codes right after the app's set-up

Revision ID: 0011_invoice_snapshot
Revises: 0010_zone_version

- ``invoice.buyer_snapshot`` and ``invoice.seller_snapshot``: the buyer (the account's name,
  company, address, VAT id and customer number) and the seller as the invoice was issued
  with them, JSON (``services/billing.py``). Invoices issued before the upgrade get today's
  account data and the seller as it stands at this revision (``_SELLER``: a copy, so a later
  change of the code's seller never reaches them); from then on they never change.
- ``loginsession.app_confirmed_at``: when this session confirmed a newly set-up app (it may
  renew the recovery codes for a few minutes, ``services/recovery_codes.py``).

Added in place (``recreate="never"``), never by copying the table.
"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "0011_invoice_snapshot"
down_revision: Union[str, Sequence[str], None] = "0010_zone_version"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_dt = sqlmodel.sql.sqltypes.UTCDateTime

# ``services.billing.SELLER`` at this revision, frozen here on purpose.
_SELLER = {
    "name": "Panel Hosting GmbH",
    "street": "Musterstraße 12",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE123456789",
    "email": "billing@panel.example",
    "website": "panel.example",
    "commercial_register": "Amtsgericht Charlottenburg, HRB 123456 B",
    "managing_directors": "Erika Mustermann",
    "bank_name": "Musterbank Berlin",
    "bank_iban": "DE89 3704 0044 0532 0130 00",
    "bank_bic": "COBADEFFXXX",
}
_BUYER_COLUMNS = ("name", "company", "street", "postal_code", "city", "country", "vat_id", "customer_number")


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("buyer_snapshot", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("seller_snapshot", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("loginsession", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("app_confirmed_at", _dt(), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT invoice.id, " + ", ".join(f"account.{c}" for c in _BUYER_COLUMNS) +
        " FROM invoice JOIN account ON account.id = invoice.account_id"
        " WHERE invoice.buyer_snapshot = '' OR invoice.seller_snapshot = ''")).all()
    seller = json.dumps(_SELLER, ensure_ascii=False, sort_keys=True)
    for row in rows:
        buyer = json.dumps({c: (v or "") for c, v in zip(_BUYER_COLUMNS, row[1:])}, ensure_ascii=False,
                           sort_keys=True)
        bind.execute(sa.text("UPDATE invoice SET buyer_snapshot = :buyer, seller_snapshot = :seller WHERE id = :id"),
                     {"buyer": buyer, "seller": seller, "id": row[0]})


def downgrade() -> None:
    with op.batch_alter_table("loginsession", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("app_confirmed_at")
    with op.batch_alter_table("invoice", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("seller_snapshot")
        batch_op.drop_column("buyer_snapshot")
