"""The console's reports page: X and Z reports taken through the reports service (with the Z's confirmation
step and its 409 on an empty shift), the list with its filters and cursor, the printable page and the PDF
under the session, the audit log, and nothing of another business."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvcr.console import api_reports
from openvcr.store.schema.console import console_audit
from tests.integration.console.conftest import Console
from tests.integration.console.test_web import fresh, sign_in

TOKEN = re.compile(r'name="token" value="([^"]+)"')


def english(c: Console) -> TestClient:
    client = fresh(c)
    client.headers["accept-language"] = "en"
    return client


def reports(c: Console, business: str = "a") -> list[dict[str, object]]:
    answer = c.client.get("/api/v1/reports?limit=500", headers=c.api(business))
    assert answer.status_code == 200
    return list(answer.json()["items"])


def audited(c: Console, action: str) -> int:
    with c.db.read() as conn:
        query = select(func.count()).select_from(console_audit).where(console_audit.c.action == action)
        return int(conn.execute(query).scalar_one())


def test_an_x_then_a_confirmed_z_then_an_empty_z_is_a_409(two_businesses: Console) -> None:
    c = two_businesses
    c.sell("a", price="1500.00", quantity="2")
    c.sell("a", price="700.00", quantity="1")
    client = english(c)
    csrf = sign_in(client, "accountant@a.example")
    page = client.get("/console/reports")
    assert page.status_code == 200 and "No reports." in page.text
    token = TOKEN.search(page.text)
    assert token is not None
    form = {"csrf": csrf, "token": token.group(1), "register": str(c.a.register_id)}
    x = client.post("/console/reports/x", data=form, follow_redirects=False)
    assert x.status_code == 303
    again = client.post("/console/reports/x", data=form, follow_redirects=False)  # the same form twice: one X
    assert again.headers["location"] == x.headers["location"]
    [taken] = reports(c)
    assert taken["type"] == "x" and x.headers["location"] == f"/console/reports/{taken['id']}"
    assert audited(c, "report.x") == 1
    shown = client.get(x.headers["location"])
    assert shown.status_code == 200
    assert '<article class="shift-report" data-report-type="x"' in shown.text and "data-print" in shown.text
    # the Z: a first POST only asks to confirm and takes nothing
    z_form = {**form, "token": "z-form"}
    confirm = client.post("/console/reports/z", data=z_form)
    assert (
        confirm.status_code == 200 and 'id="confirm-z"' in confirm.text and 'name="confirm" value="1"' in confirm.text
    )
    assert len(reports(c)) == 1 and audited(c, "report.z") == 0
    z = client.post("/console/reports/z", data={**z_form, "confirm": "1"}, follow_redirects=False)
    assert z.status_code == 303
    latest = reports(c)[0]
    assert latest["type"] == "z" and z.headers["location"] == f"/console/reports/{latest['id']}"
    totals = latest["totals"]
    assert isinstance(totals, dict)
    assert totals["documents"]["sale"]["count"] == 2
    assert Decimal(str(totals["documents"]["sale"]["total"])) == Decimal("4700")  # 3000 + 500, 700 + 500
    assert audited(c, "report.z") == 1
    # the shift is closed: another Z (a new form) is refused with a clear message, nothing written
    empty = client.post("/console/reports/z", data={**z_form, "token": "z-2", "confirm": "1"})
    assert empty.status_code == 409
    assert "The shift is empty" in empty.text and 'id="refused"' in empty.text
    assert len(reports(c)) == 2 and audited(c, "report.z") == 1
    # the PDF, under the session (no API key), in the session's language
    pdf = client.get(f"/console/reports/{latest['id']}.pdf?format=80mm")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get(f"/console/reports/{latest['id']}.pdf?format=letter").status_code == 400
    assert fresh(c).get(f"/console/reports/{latest['id']}.pdf", follow_redirects=False).status_code == 303


def test_the_list_filters_by_type_and_pages_with_the_cursor(
    two_businesses: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = two_businesses
    for kind in ("x", "x", "x", "x"):
        assert c.client.post(f"/api/v1/reports/{kind}", headers=c.api("a")).status_code == 200
    c.sell("a")
    assert c.client.post("/api/v1/reports/z", headers=c.api("a")).status_code == 200
    ids = [r["id"] for r in reports(c)]
    monkeypatch.setattr(api_reports, "PAGE_SIZE", 3)
    client = fresh(c)
    sign_in(client, "owner@a.example")
    first = client.get("/console/reports?type=x")
    listed = [int(i) for i in re.findall(r'data-report="(\d+)"', first.text)]
    assert listed == ids[1:4] and 'data-type="z"' not in first.text
    following = re.search(r'href="(/console/reports\?[^"]+)" rel="next"', first.text)
    assert following is not None
    url = following.group(1).replace("&amp;", "&")
    assert "type=x" in url and "cursor=" in url
    assert [int(i) for i in re.findall(r'data-report="(\d+)"', client.get(url).text)] == ids[4:]
    z_only = client.get("/console/reports?type=z")
    assert [int(i) for i in re.findall(r'data-report="(\d+)"', z_only.text)] == ids[:1]
    assert client.get("/console/reports?from=2000-01-01&to=2000-01-02").text.count("data-report=") == 0


@pytest.mark.parametrize("query", ["type=y", "from=yesterday", "to=2026-13-01", "cursor=nonsense", "register=abc"])
def test_bad_filters_are_a_400_page(two_businesses: Console, query: str) -> None:
    client = fresh(two_businesses)
    sign_in(client, "owner@a.example")
    assert client.get(f"/console/reports?{query}").status_code == 400


def test_a_developer_may_not_take_a_report_and_another_business_sees_nothing(two_businesses: Console) -> None:
    c = two_businesses
    c.sell("a")
    developer = fresh(c)
    csrf = sign_in(developer, "developer@a.example")
    assert developer.get("/console/reports").status_code == 403
    form = {"csrf": csrf, "register": str(c.a.register_id), "token": "t", "confirm": "1"}
    assert developer.post("/console/reports/z", data=form).status_code == 403
    other = fresh(c)
    csrf_b = sign_in(other, "owner@b.example")
    assert other.post("/console/reports/x", data={**form, "csrf": csrf_b}).status_code == 404
    assert other.post("/console/reports/z", data={**form, "csrf": csrf_b}).status_code == 404
    owner = fresh(c)
    sign_in(owner, "owner@a.example")
    assert owner.post("/console/reports/x", data={"register": str(c.a.register_id), "token": "t"}).status_code == 403
    assert reports(c) == [] and reports(c, "b") == []
