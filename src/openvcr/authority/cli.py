"""``openvcr sandbox src …`` (run the SRC e-HDM sandbox, its CA) and ``openvcr src …`` (operator tools).

Commands:
- ``openvcr sandbox src --host H --port P --state DIR [--seed-demo] [--tls [--client-ca PEM]]
  [--seq-policy increasing|strict] [--error-status 200] [--require-seq] [--latency-ms N]``;
- ``openvcr sandbox src ca init --state DIR`` / ``ca issue --state DIR --crn C --tin T --out DIR`` /
  ``ca sign --state DIR --csr FILE --crn C --tin T --out FILE``;
- ``openvcr src check|resync-seq|in-doubt|resolve|settle`` against the configured SRC (``--database URL``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from openvcr.authority.service import SrcService
    from openvcr.store.db import Database

console = Console()
err_console = Console(stderr=True)

sandbox_src_app = typer.Typer(help="The SRC e-HDM sandbox: a faithful simulator of the tax authority's service.")
ca_app = typer.Typer(help="The sandbox's certificate authority (client certificates for mutual TLS).")
sandbox_src_app.add_typer(ca_app, name="ca", no_args_is_help=True)
src_app = typer.Typer(help="SRC e-HDM operator tools: connection check, seq resync, in-doubt requests.")

StateOption = Annotated[Path, typer.Option("--state", help="Directory of the sandbox state (created if missing).")]
DatabaseOption = Annotated[str | None, typer.Option("--database", help="Database URL (default: OPENVCR_DATABASE_URL).")]
RegisterOption = Annotated[int, typer.Option("--register", help="Register id.")]


@sandbox_src_app.callback(invoke_without_command=True)
def sandbox_src(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8090,
    state: Annotated[Path, typer.Option("--state", help="State directory (survives restarts).")] = Path(
        "./openvcr-data/src-sandbox"
    ),
    seed_demo: Annotated[bool, typer.Option("--seed-demo", help="Register the manual's demo taxpayer.")] = False,
    tls: Annotated[bool, typer.Option("--tls", help="Serve HTTPS with the sandbox CA's server certificate.")] = False,
    client_ca: Annotated[
        Path | None, typer.Option("--client-ca", help="Require client certificates signed by this CA (PEM).")
    ] = None,
    seq_policy: Annotated[str, typer.Option("--seq-policy", help="increasing | strict")] = "increasing",
    error_status: Annotated[int, typer.Option("--error-status", help="HTTP status of business errors.")] = 200,
    require_seq: Annotated[bool, typer.Option("--require-seq", help="Refuse seq-less requests (197).")] = False,
    server_name: Annotated[
        list[str] | None, typer.Option("--server-name", help="Extra DNS name / IP of the server certificate.")
    ] = None,
    latency_ms: Annotated[
        int, typer.Option("--latency-ms", min=0, help="Delay every answer by this many milliseconds.")
    ] = 0,
) -> None:
    """Serve /taxsystem-rs-vcr/api/v1.0/<method> until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    from openvcr.authority.sandbox import ca, demo
    from openvcr.authority.sandbox.server import SandboxHttpServer, ServerTls
    from openvcr.authority.sandbox.simulator import SandboxConfig, Simulator
    from openvcr.authority.sandbox.state import SandboxState

    if seq_policy not in ("increasing", "strict"):
        err_console.print("[red]--seq-policy must be increasing or strict[/red]")
        raise typer.Exit(2)
    sandbox_state = SandboxState(state)
    if seed_demo and demo.seed_demo(sandbox_state):
        console.print(f"Demo taxpayer: TIN {demo.TIN}, CRN {demo.CRN}, SN {demo.SN}, cashier {demo.CASHIER}")
    server_tls = None
    if tls or client_ca is not None:
        files = ca.init_ca(state, tuple(server_name or ()))
        mutual = client_ca if client_ca is not None else None
        server_tls = ServerTls(files.server_cert, files.server_key, mutual)
        console.print(f"TLS: server certificate by the sandbox CA {files.ca_cert}")
    config = SandboxConfig(
        seq_policy=seq_policy,
        error_status=error_status,
        require_seq=require_seq,
        require_client_cert=client_ca is not None,
    )
    server = SandboxHttpServer((host, port), Simulator(sandbox_state, config), server_tls, latency_ms=latency_ms)
    console.print(f"SRC e-HDM sandbox: {server.url}/api/v1.0/<method>  (state {state})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sandbox_state.close()


@ca_app.command("init")
def ca_init(
    state: StateOption,
    server_name: Annotated[list[str] | None, typer.Option("--server-name", help="Extra server name / IP.")] = None,
) -> None:
    """Create the sandbox CA (kept if it exists) and a fresh server certificate."""
    from openvcr.authority.sandbox import ca

    files = ca.init_ca(state, tuple(server_name or ()))
    console.print(f"CA: {files.ca_cert}\nServer: {files.server_cert} {files.server_key}")


@ca_app.command("issue")
def ca_issue(
    state: StateOption,
    out: Annotated[Path, typer.Option("--out", help="Directory for {TIN}_{CRN}.crt / .key (/.p12).")],
    crn: Annotated[str | None, typer.Option(help="CRN the certificate is bound to (default: any).")] = None,
    tin: Annotated[str | None, typer.Option(help="TIN the certificate is bound to (default: any).")] = None,
    passphrase: Annotated[str | None, typer.Option(help="Encrypt the key (and the .p12) with it.")] = None,
    p12: Annotated[bool, typer.Option("--p12", help="Also write a PKCS#12 bundle.")] = False,
) -> None:
    """Issue a client certificate signed by the sandbox CA, bound to a CRN/TIN."""
    from openvcr.authority.sandbox import ca
    from openvcr.authority.sandbox.state import SandboxState

    sandbox_state = SandboxState(state)
    try:
        files = ca.issue_client_certificate(
            state, sandbox_state, crn=crn, tin=tin, out_dir=out, passphrase=passphrase, p12=p12
        )
    finally:
        sandbox_state.close()
    console.print(f"Certificate {files.cert} (serial {files.serial})\nKey {files.key}")
    if files.p12:
        console.print(f"PKCS#12 {files.p12}")


@ca_app.command("sign")
def ca_sign(
    state: StateOption,
    csr: Annotated[Path, typer.Option("--csr", help="The register's certificate request (PEM).")],
    crn: Annotated[str, typer.Option(help="CRN the certificate is bound to.")],
    tin: Annotated[str, typer.Option(help="TIN the certificate is bound to.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signed certificate (PEM).")],
    days: Annotated[int, typer.Option("--days", min=1, help="Validity in days.")] = 825,
) -> None:
    """Sign a register's CSR as SRC would (``openvcr registers add --production`` writes one)."""
    from openvcr.authority.sandbox import ca
    from openvcr.authority.sandbox.state import SandboxState

    sandbox_state = SandboxState(state)
    try:
        pem, serial = ca.sign_request(state, sandbox_state, csr.read_bytes(), crn=crn, tin=tin, days=days)
    finally:
        sandbox_state.close()
    out.write_bytes(pem)
    console.print(f"Certificate {out} (serial {serial}) for CRN {crn}")


# --- operator tools ---


def _service(database: str | None) -> tuple[SrcService, Database]:
    from openvcr.authority.factory import build_gateway
    from openvcr.authority.service import SrcService
    from openvcr.commands import existing_database
    from openvcr.config import get_settings

    settings = get_settings()
    if database:
        settings = settings.model_copy(update={"database_url": database})
    db = existing_database(settings.database_url)
    return SrcService(db, build_gateway(settings, db), settings), db


def _fail(exc: Exception) -> None:
    err_console.print(f"[red]{exc}[/red]")
    raise typer.Exit(1)


@src_app.command("resync-seq")
def resync_seq(register: RegisterOption, seq: Annotated[int, typer.Option("--seq", help="Last seq SRC has seen.")],
               database: DatabaseOption = None) -> None:  # fmt: skip
    """Set the register's last used seq; the next request to SRC carries seq + 1."""
    from openvcr.core.errors import OpenVCRError

    service, db = _service(database)
    try:
        service.resync_seq(register, seq)
    except OpenVCRError as exc:
        _fail(exc)
    finally:
        db.dispose()
    console.print(f"Register {register}: last seq {seq}; the next request uses {seq + 1}")


@src_app.command("check")
def check(register: RegisterOption, database: DatabaseOption = None) -> None:
    """checkConnection for a register."""
    from openvcr.core.errors import OpenVCRError

    service, db = _service(database)
    try:
        service.check_connection(register)
    except OpenVCRError as exc:
        _fail(exc)
    finally:
        db.dispose()
    console.print(f"Register {register}: SRC answers")


def _rows_json(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "registerId": r.register_id, "documentKey": r.document_key, "method": r.method,
         "seq": r.seq, "state": r.state, "note": r.note, "createdAt": r.created_at}
        for r in rows
    ]  # fmt: skip


@src_app.command("in-doubt")
def in_doubt(
    register: Annotated[int | None, typer.Option("--register", help="Only this register.")] = None,
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List requests that are pending, in doubt or waiting for an operator."""
    service, db = _service(database)
    try:
        rows = service.unsettled(register)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(_rows_json(rows), ensure_ascii=False))
        return
    table = Table("id", "register", "document", "method", "seq", "state", "note")
    for r in rows:
        table.add_row(str(r.id), str(r.register_id), r.document_key or "", r.method, str(r.seq), r.state, r.note or "")
    console.print(table)


@src_app.command("resolve")
def resolve(
    register: Annotated[int | None, typer.Option("--register", help="Only this register.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Settle pending / in-doubt requests by asking SRC (printCopy of the expected receipts)."""
    service, db = _service(database)
    try:
        results = service.resolve_in_doubt(register)
    finally:
        db.dispose()
    for r in results:
        console.print(f"{r.document_key}: {r.state} {r.receipt_id or ''} — {r.note}")
    if not results:
        console.print("Nothing to resolve")


@src_app.command("settle")
def settle(
    document_key: Annotated[str, typer.Argument(help="The document key of the request.")],
    receipt: Annotated[int | None, typer.Option("--receipt", help="SRC receiptId it was registered as.")] = None,
    not_registered: Annotated[bool, typer.Option("--not-registered", help="SRC has no receipt for it.")] = False,
    database: DatabaseOption = None,
) -> None:
    """An operator's verdict on a request automatic resolution could not settle."""
    from openvcr.core.errors import OpenVCRError

    if (receipt is None) == (not not_registered):
        err_console.print("[red]give exactly one of --receipt N or --not-registered[/red]")
        raise typer.Exit(2)
    service, db = _service(database)
    try:
        result = service.settle_by_operator(document_key, receipt)
    except OpenVCRError as exc:
        _fail(exc)
    finally:
        db.dispose()
    console.print(f"{document_key}: {result.state}")
