"""`flask users create EMAIL` prompts for the password and refuses a bad one."""
from sqlalchemy import select

from mockup.extensions import db
from mockup.models import User
from mockup.services import accounts


def test_create_user_prompts_for_password(app, runner):
    result = runner.invoke(args=["users", "create", "Lead@Example.com"], input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0, result.output
    assert "Created user lead@example.com" in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "lead@example.com"
        assert accounts.authenticate("lead@example.com", "long enough pw").id == user.id


def test_create_user_refuses_short_password(app, runner):
    result = runner.invoke(args=["users", "create", "a@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 8" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None
