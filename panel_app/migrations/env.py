"""Alembic environment: the URL comes from Settings, the metadata from models."""

from alembic import context
from sqlmodel import SQLModel

import panel_app.models  # noqa: F401  (registers the tables)
from panel_app.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection") or get_engine().connect()
    with connectable.begin() if not connectable.in_transaction() else _nullcontext():
        context.configure(
            connection=connectable,
            target_metadata=target_metadata,
            render_as_batch=connectable.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


run_migrations_online()
