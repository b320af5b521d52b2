"""Browser tests skip without chromium only outside CI: under ``CI=true`` a missing browser is a failure."""

from __future__ import annotations

import pytest

from tests.browser import conftest


def test_without_chromium_browser_tests_skip_locally_and_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "DEBIAN_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(conftest.shutil, "which", lambda _name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        conftest.chromium_executable()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI=true"):
        conftest.chromium_executable()


def test_debian_chromium_is_used_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest.os, "access", lambda path, _mode: path == conftest.DEBIAN_CHROMIUM)
    assert conftest.chromium_executable() == "/usr/bin/chromium"
