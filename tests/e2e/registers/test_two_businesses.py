"""Two production registers of two businesses, each with its own SRC certificate, in one ``openvcr serve``
against the SRC sandbox in mutual-TLS mode (real sockets, certificates signed by the sandbox CA from the
CSRs ``openvcr registers add`` wrote): both sell, a swapped certificate is refused, the journal verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openvcr.authority.sandbox.ca import ca_files
from tests.e2e.authority.conftest import Running, start
from tests.e2e.server import openvcr_env, run_cli, serve

SALE = {
    "cashier": {"id": 1},
    "items": [
        {
            "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
                      "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"},
            "department": {"id": 1}, "quantity": "1", "price": "700", "unit": "pc",
        }
    ],
    "autoSettle": {"tender": "cash"},
}  # fmt: skip
BUSINESSES = (("01234567", "Shop LLC"), ("07654321", "Cafe LLC"))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start(tmp_path_factory.mktemp("src"), mutual=True)  # requires a client certificate
    yield running
    running.server.shutdown()
    running.server.server_close()
    running.state.close()


def _cli(args: list[str], env: dict[str, str]) -> Any:
    done = run_cli(args, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_two_registers_with_their_own_certificates_sell_in_one_serve(sandbox: Running, tmp_path: Path) -> None:
    ca_pem = ca_files(sandbox.directory).ca_cert
    env = openvcr_env(
        tmp_path / "state",
        OPENVCR_SRC_MODE="remote",
        OPENVCR_SRC_URL=sandbox.url,
        OPENVCR_SRC_CA=str(ca_pem),  # the server is verified; there is no global client certificate
    )
    database = f"sqlite:///{tmp_path / 'host.db'}"
    added = []
    for tin, name in BUSINESSES:
        crn, sn = sandbox.state.register(tin=tin, taxpayer=name, address="Yerevan")  # SRC's u6 registration
        csr = tmp_path / f"{crn}.csr"
        register = _cli(
            ["registers", "add", "--production", "--tin", tin, "--taxpayer", name, "--crn", crn, "--sn", sn,
             "--address", "Yerevan", "--csr-out", str(csr), "--database", database, "--json"],
            env,
        )  # fmt: skip
        assert register["authorityStatus"] == "current" and csr.read_text().startswith("-----BEGIN CERTIFICATE REQ")
        cert = tmp_path / f"{crn}.crt"
        _cli(["sandbox", "src", "ca", "sign", "--state", str(sandbox.directory), "--csr", str(csr), "--crn", crn,
              "--tin", tin, "--out", str(cert)], env)  # fmt: skip
        added.append((register, cert))

    first, second = added[0][0], added[1][0]
    # The other register's certificate does not match this register's key: refused, nothing stored.
    refused = run_cli(["registers", "cert", "import", str(first["vcrId"]), "--cert", str(added[1][1]),
                       "--database", database], env)  # fmt: skip
    assert refused.returncode == 1 and "does not match the register's key" in refused.stderr
    for register, cert in added:
        imported = _cli(["registers", "cert", "import", str(register["vcrId"]), "--cert", str(cert), "--ca",
                         str(ca_pem), "--database", database, "--json"], env)  # fmt: skip
        assert imported["authorityStatus"] == "operating" and imported["activationError"] is None
    listed = _cli(["registers", "list", "--database", database, "--json"], env)
    assert [(r["mode"], r["authorityStatus"], r["certificate"]["status"]) for r in listed] == [
        ("production", "operating", "valid")
    ] * 2

    with serve(database, env) as (base, _process), httpx.Client(base_url=base, timeout=30) as http:
        for register in (first, second, first):
            key = {"X-API-KEY": register["apiKey"]}
            departments = http.get("/api/v1/departments", headers=key).json()
            vat = next(d["internalId"] for d in departments if d["taxRegime"] == "vat")
            item = {**SALE["items"][0], "department": {"id": vat}}  # type: ignore[index]
            item["offer"] = {**item["offer"], "defaultDepartment": {"id": vat}}
            sale = {**SALE, "cashier": {"id": register["cashier"]["id"]}, "items": [item]}
            response = http.post("/api/v1/sales", json=sale, headers={"X-API-KEY": register["apiKey"]})
            assert response.status_code == 200, response.text
            assert response.json()["crn"] == register["crn"]
    for register in (first, second):
        summary = sandbox.state.summary(register["crn"])
        assert summary is not None and summary["receipts"] == (2 if register is first else 1)

    verified = run_cli(["verify", "--database", database], env)
    assert verified.returncode == 0 and "VALID" in verified.stdout, verified.stdout + verified.stderr

    # A certificate SRC issued for the first register's CRN, used by the second: SRC refuses it (403).
    issued = run_cli(["sandbox", "src", "ca", "issue", "--state", str(sandbox.directory), "--crn", first["crn"],
                      "--tin", first["tin"], "--out", str(tmp_path / "swapped"), "--p12"], env)  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    p12 = next((tmp_path / "swapped").glob("*.p12"))
    _cli(["registers", "cert", "import", str(second["vcrId"]), "--p12", str(p12), "--no-activate",
          "--database", database], env)  # fmt: skip
    check = run_cli(["src", "check", "--register", str(second["vcrId"]), "--database", database], env)
    assert check.returncode == 1 and "403" in check.stderr, check.stdout + check.stderr
    assert sandbox.state.summary(second["crn"])["receipts"] == 1  # type: ignore[index]


def test_registers_commands_add_update_and_disable_a_sandbox_register(tmp_path: Path) -> None:
    env = openvcr_env(tmp_path / "sandbox")  # the in-process SRC sandbox
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    added = _cli(["registers", "add", "--tin", "01234567", "--taxpayer", "Shop", "--database", database, "--json"], env)
    assert added["mode"] == "sandbox" and added["authorityStatus"] == "operating" and added["csr"] is None
    second = _cli(["registers", "add", "--business", "01234567", "--database", database, "--json"], env)
    assert second["entityId"] == added["entityId"]
    unknown = run_cli(["registers", "add", "--business", "07654321", "--database", database], env)
    assert unknown.returncode == 2 and "no business with TIN 07654321" in unknown.stderr
    vcr = str(added["vcrId"])
    _cli(["registers", "update", vcr, "--address", "Gyumri", "--trading-name", "Shop 2", "--database", database], env)
    no_csr = run_cli(["registers", "csr", vcr, "--database", database], env)
    assert no_csr.returncode == 2 and "no certificate request" in no_csr.stderr
    _cli(["registers", "disable", vcr, "--database", database], env)
    listed = {r["id"]: r for r in _cli(["registers", "list", "--database", database, "--json"], env)}
    assert listed[added["vcrId"]]["address"] == "Gyumri" and listed[added["vcrId"]]["tradingName"] == "Shop 2"
    assert listed[added["vcrId"]]["disabled"] and not listed[second["vcrId"]]["disabled"]
    assert listed[added["vcrId"]]["certificate"] is None  # sandbox registers use the global identity
    keys = _cli(["keys", "list", "--database", database, "--json"], env)
    revoked = {k["registerId"]: k["revokedAt"] is not None for k in keys}
    assert revoked == {added["vcrId"]: True, second["vcrId"]: False}
