from panel_app.models import User
from sqlmodel import select


def test_create_owner(make_user, db):
    user = make_user()
    assert db.exec(select(User)).one().email == "owner@test.example"
    assert user.role == "owner"
