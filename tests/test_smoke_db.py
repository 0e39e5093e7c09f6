from panel_app.models import User
from sqlmodel import select


def test_create_owner(make_user, db):
    user = make_user()
    assert db.exec(select(User)).one().email == "owner@test.example"
    assert user.role == "owner"


def test_the_migrations_build_exactly_the_models_tables(db):
    """A model change without its migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from panel_app.db import get_engine

    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in diff if d[0] != "remove_table" or d[1].name != "alembic_version"] == []
