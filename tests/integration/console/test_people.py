"""People and roles: ``openvcr users add|list|disable|reset-password``, the first owner, login links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from openvcr.cli import app
from openvcr.config import Settings
from openvcr.console import service
from openvcr.core.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from openvcr.store.db import Database
from openvcr.store.schema.console import console_audit, console_users
from tests.integration.console.conftest import PASSWORD, Console


def _run(args: list[str], database: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--database", database], input=stdin)
    return result.exit_code, result.output


def test_users_add_list_disable_and_reset_password_by_command(two_businesses: Console) -> None:
    url = two_businesses.settings.database_url
    tin = two_businesses.a.tin
    code, out = _run(["users", "add", "--email", "New@Shop.example", "--role", "accountant", "--business", tin,
                      "--password-stdin", "--json"], url, stdin="another long password\n")  # fmt: skip
    assert code == 0, out
    added = json.loads(out)
    assert added["email"] == "new@shop.example"
    assert added["memberships"] == [{"tin": tin, "business": "«Ավազարկղ» ՍՊԸ", "role": "accountant"}]
    code, out = _run(["users", "list", "--business", tin, "--json"], url)
    assert code == 0, out
    assert {u["email"] for u in json.loads(out)} == {"owner@a.example", "accountant@a.example",
                                                     "developer@a.example", "new@shop.example"}  # fmt: skip
    db, settings = two_businesses.db, two_businesses.settings
    assert service.sign_in(db, settings, "new@shop.example", "another long password", None, "1.1.1.1")
    code, out = _run(["users", "disable", "--email", "new@shop.example"], url)
    assert code == 0, out
    with pytest.raises(NotAuthenticated):
        service.sign_in(db, settings, "new@shop.example", "another long password", None, "1.1.1.1")
    _run(["users", "disable", "--email", "new@shop.example", "--enable"], url)
    code, out = _run(["users", "reset-password", "--email", "new@shop.example", "--password-stdin"], url,
                     stdin="a brand new password\n")  # fmt: skip
    assert code == 0, out
    with pytest.raises(NotAuthenticated):
        service.sign_in(db, settings, "new@shop.example", "another long password", None, "1.1.1.2")
    assert service.sign_in(db, settings, "new@shop.example", "a brand new password", None, "1.1.1.2")
    with db.read() as conn:
        actions = [
            r.action for r in conn.execute(select(console_audit).where(console_audit.c.target == "new@shop.example"))
        ]
    assert actions[:4] == ["user.add", "user.disable", "user.enable", "user.reset_password"]


def test_bad_user_input_is_refused_and_writes_nothing(two_businesses: Console) -> None:
    db, tin = two_businesses.db, two_businesses.a.tin
    with db.read() as conn:
        before = conn.execute(select(func.count()).select_from(console_users)).scalar_one()
    with pytest.raises(ValidationFailed):
        service.add_user(db, email="x@y.example", role="king", tin=tin, password=PASSWORD)
    with pytest.raises(ValidationFailed):
        service.add_user(db, email="not an address", role="owner", tin=tin, password=PASSWORD)
    with pytest.raises(ValidationFailed):
        service.add_user(db, email="x@y.example", role="owner", tin=tin, password="short")
    with pytest.raises(NotFound):
        service.add_user(db, email="x@y.example", role="owner", tin="99999999", password=PASSWORD)
    with pytest.raises(Conflict):
        service.add_user(db, email="owner@a.example", role="owner", tin=tin, password=None)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(console_users)).scalar_one() == before
    code, _out = _run(["users", "add", "--email", "x@y.example", "--role", "owner", "--business", tin,
                      "--password-stdin"], two_businesses.settings.database_url, stdin="\n")  # fmt: skip
    assert code == 2


def test_a_login_link_works_once(two_businesses: Console) -> None:
    db, settings = two_businesses.db, two_businesses.settings
    token = service.issue_login_link(db, settings, "accountant@a.example")
    signed = service.sign_in_with_link(db, settings, token)
    assert signed.session.email == "accountant@a.example" and signed.session.role == "accountant"
    with pytest.raises(NotAuthenticated):
        service.sign_in_with_link(db, settings, token)


def test_the_first_owner_is_created_once_on_a_database_without_users(database: Database, tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite://", sandbox_state_dir=tmp_path / "s")
    assert service.ensure_first_owner(database, settings) is None  # no business yet
    from openvcr.authority.factory import build_gateway
    from openvcr.authority.service import SrcService
    from openvcr.registers.service import initialize

    init = initialize(database, settings, SrcService(database, build_gateway(settings), settings))
    owner = service.ensure_first_owner(database, settings)
    assert owner is not None and owner.email == "owner@example.com" and owner.tin == init.tin
    assert service.ensure_first_owner(database, settings) is None
    signed = service.sign_in_with_link(database, settings, owner.link_token)
    assert signed.session.role == "owner"


def test_a_user_with_totp_needs_the_current_code(two_businesses: Console) -> None:
    from openvcr.console.security import totp_code, verify_totp

    db, settings = two_businesses.db, two_businesses.settings
    _user, secret = service.add_user(db, email="2fa@a.example", role="owner", tin=two_businesses.a.tin,
                                     password=PASSWORD, totp=True)  # fmt: skip
    assert secret is not None
    with pytest.raises(NotAuthenticated):
        service.sign_in(db, settings, "2fa@a.example", PASSWORD, None, "2.2.2.2")
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if not verify_totp(secret, code))
    with pytest.raises(NotAuthenticated):
        service.sign_in(db, settings, "2fa@a.example", PASSWORD, wrong, "2.2.2.3")
    signed = service.sign_in(db, settings, "2fa@a.example", PASSWORD, totp_code(secret), "2.2.2.4")
    assert signed.session.email == "2fa@a.example"
