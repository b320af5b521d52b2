"""docs/vsdc.md keeps its word: its set-up, curl command and examples are replayed against a live
``openvcr serve --vsdc-port`` over real mutual TLS.

The page marks what is replayed with an HTML comment, on a line of its own, right before a fenced block:

- ``<!-- vsdc-doc setup -->`` and ``<!-- vsdc-doc command -->``: ``openvcr …`` lines, run in an empty working
  directory (``serve`` in the background, on free ports instead of 8000 and 8443);
- ``<!-- vsdc-doc request NAME -->``: a request body, JSON or XML by the block's language;
- ``<!-- vsdc-doc curl NAME -->``: the shell lines that send request NAME (run as printed with ``bash``, the
  port 8443 replaced by the listener's), in place of the test's own client, when NAME's answer is due;
- ``<!-- vsdc-doc response NAME STATUS -->``: the documented answer to NAME and its HTTP status (a response
  without a request is the answer to a body larger than the limit);
- ``<!-- vsdc-doc replay NAME -->``: request NAME is sent again and must get the same bytes back.

Blocks are replayed in the page's order, as the page says. A documented answer must equal the real one,
except for the values that change on every run (``signingDate``, ``internalData``, ``signature``), which are
compared by shape, in their fields, in the journal and in the verification URL. Error bodies, which the page
shows as sent, must match byte for byte.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import httpx
import pytest

import openvcr
from openvcr.vsdc.errors import VsdcRejected
from openvcr.vsdc.schemas import MAX_BODY_BYTES, validate
from tests.e2e.server import free_port, openvcr_env, wait_healthy

DOC = Path(__file__).resolve().parents[3] / "docs" / "vsdc.md"
DOC_HTTP_PORT, DOC_VSDC_PORT = "8000", "8443"
VARYING = ("signingDate", "internalData", "signature")
SHORTENED = ("internalData", "signature")  # the page may cut these to a prefix followed by "…"
DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}")
BLOCK = re.compile(
    r"^<!-- vsdc-doc (?P<what>setup|command|request|curl|response|replay)"
    r"(?: (?P<name>[\w-]+))?(?: (?P<status>\d{3}))? -->"
    r"\n(?:```(?P<lang>\w+)\n(?P<body>.*?)\n```)?",
    re.DOTALL | re.MULTILINE,
)
MARKER = re.compile(r"^<!-- vsdc-doc ", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    what: str
    name: str | None
    status: int | None
    lang: str | None
    body: str


def doc_blocks(text: str) -> list[Block]:
    """The marked blocks of the page, in order."""
    found = [
        Block(m["what"], m["name"], int(m["status"]) if m["status"] else None, m["lang"], m["body"] or "")
        for m in BLOCK.finditer(text)
    ]
    assert len(MARKER.findall(text)) == len(found), "a vsdc-doc marker is misspelt or not followed by its block"
    return found


def parse_answer(content: bytes | str, lang: str) -> dict[str, Any]:
    """A JSON answer as it is; an XML ``<response>`` as {tag: text}, ``errors`` as a list of texts."""
    if lang == "json":
        return dict(json.loads(content))
    root = SafeET.fromstring(content.encode() if isinstance(content, str) else content)
    assert root.tag == "response"
    out: dict[str, Any] = {}
    for child in root:
        out[child.tag] = [e.text or "" for e in child] if child.tag == "errors" else (child.text or "")
    return out


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` with the values that change on every run replaced by their names, wherever they appear."""
    out = dict(answer)
    journal = out.get("journal")
    for key in VARYING:
        if key in out:
            if isinstance(journal, str) and out[key]:
                journal = journal.replace(out[key], f"<{key}>")
            out[key] = f"<{key}>"
    if journal is not None:
        out["journal"] = journal
    if isinstance(out.get("verificationUrl"), str):
        out["verificationUrl"] = re.sub(r"([?&](?:data|sign)=)[^&]*", r"\1<varies>", out["verificationUrl"])
    return out


def assert_matches(documented: Block, status: int, content: bytes) -> None:
    assert documented.status is not None and documented.lang is not None
    assert status == documented.status, f"{documented.name}: HTTP {status}: {content!r}"
    if status != 200:  # the page shows error bodies byte for byte
        assert content == documented.body.encode(), documented.name
    actual = parse_answer(content, documented.lang)
    expected = parse_answer(documented.body, documented.lang)
    assert comparable(actual) == comparable(expected), documented.name
    for key in VARYING:
        if key not in expected:
            continue
        value = actual[key]
        if key == "signingDate":
            assert DATE.fullmatch(value) and value[-5:] == expected[key][-5:], (documented.name, value)
        elif key in SHORTENED:
            assert len(base64.b64decode(value, validate=True)) > 32, (documented.name, key)
            shown = expected[key]
            assert shown == value or (shown.endswith("…") and len(shown) < len(value)), (documented.name, key)


class Replay:
    """One fresh working directory in which the page's commands and requests run."""

    def __init__(self, workdir: Path, stack: ExitStack) -> None:
        self.workdir = workdir
        self.stack = stack
        src = str(Path(openvcr.__file__).resolve().parents[1])  # this tree's code, whatever the cwd
        paths = [src, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        self.env = openvcr_env(workdir / ".sandbox", PYTHONPATH=os.pathsep.join(paths))
        self.http_port, self.vsdc_port = free_port(), free_port()
        self.requests: dict[str, Block] = {}
        self.answers: dict[str, bytes] = {}

    # --- commands ---------------------------------------------------------------------------------------

    def commands(self, block: Block) -> None:
        for line in block.body.splitlines():
            argv = shlex.split(line, comments=True)
            if not argv:
                continue
            assert argv[0] == "openvcr", line
            if argv[1] == "serve":
                self.serve(argv[2:])
                continue
            done = subprocess.run(
                [sys.executable, "-m", "openvcr", *argv[1:]],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, (line, done.stderr)
            if argv[1:3] == ["vsdc", "device"] and argv[3] == "add":
                files = json.loads(done.stdout)
                out = (self.workdir / argv[argv.index("--out") + 1]).resolve()
                serial = files["serial"]
                assert files == {
                    "serial": serial,
                    "cert": str(out / f"{serial}.pem"),
                    "key": str(out / f"{serial}.key"),
                    "p12": str(out / f"{serial}.p12"),
                    "ca": str(out / "CA.pem"),
                }
                assert oct((out / f"{serial}.key").stat().st_mode & 0o777) == "0o600"
                self.device = out, serial

    def serve(self, args: list[str]) -> None:
        assert args[args.index("--port") + 1] == DOC_HTTP_PORT and args[args.index("--vsdc-port") + 1] == DOC_VSDC_PORT
        args = [
            str(self.http_port) if prev == "--port" else str(self.vsdc_port) if prev == "--vsdc-port" else arg
            for prev, arg in zip(["", *args[:-1]], args, strict=True)
        ]
        assert str(self.vsdc_port) in args and str(self.http_port) in args, args
        log = self.stack.enter_context(open(self.workdir / "serve.log", "w"))  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "openvcr", "serve", *args],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.stack.callback(_stop, process)
        wait_healthy(f"http://127.0.0.1:{self.http_port}", process)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "openvcr serve exited"
            try:
                with socket.create_connection(("127.0.0.1", self.vsdc_port), timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, "the V-SDC listener did not start"
                time.sleep(0.1)

    # --- requests ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://localhost:{self.vsdc_port}/merchant/invoice"

    def post(self, name: str) -> tuple[int, bytes]:
        request = self.requests.get(name)
        if request is None:  # the page describes this one: a JSON object padded past the size limit
            body, content_type = b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}", "application/json"
        else:
            body = request.body.encode()
            content_type = "application/xml" if request.lang == "xml" else "application/json"
        out, serial = self.device
        context = ssl.create_default_context(cafile=str(out / "CA.pem"))
        context.load_cert_chain(str(out / f"{serial}.pem"), str(out / f"{serial}.key"))
        with httpx.Client(verify=context, timeout=30) as client:
            answer = client.post(self.url, content=body, headers={"Content-Type": content_type})
        return answer.status_code, answer.content

    def curl(self, block: Block) -> tuple[int, bytes]:
        """Run the page's curl lines as printed (the port replaced); first without a client certificate."""
        assert block.name is not None
        data_file = re.search(r"--data-binary @(\S+)", block.body)
        assert data_file, block.body
        (self.workdir / data_file[1]).write_text(self.requests[block.name].body)
        script = block.body.replace(f"localhost:{DOC_VSDC_PORT}/", f"localhost:{self.vsdc_port}/")
        assert script != block.body, "the curl command does not use port 8443"
        no_cert = re.sub(r"--(?:cert|key) \S+ ", "", script)
        refused = self._bash(no_cert)
        assert refused.returncode != 0 and refused.stdout == b"", refused
        done = self._bash(script)
        assert done.returncode == 0, done.stderr
        return 200, done.stdout  # --fail-with-body: any status from 400 on makes curl fail

    def _bash(self, script: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            timeout=60,
            check=False,
        )

    # --- the page -----------------------------------------------------------------------------------------

    def run(self, blocks: list[Block]) -> Iterator[tuple[Block, int, bytes]]:
        """Replay the page; yield each documented answer with the real status and body."""
        curls: dict[str, Block] = {}
        for block in blocks:
            if block.what in ("setup", "command"):
                self.commands(block)
            elif block.what == "request":
                assert block.name is not None
                self.requests[block.name] = block
            elif block.what == "curl":
                assert block.name is not None
                curls[block.name] = block  # run once its request is known
            elif block.what == "response":
                assert block.name is not None
                curl = curls.pop(block.name, None)
                status, content = self.curl(curl) if curl else self.post(block.name)
                self.answers[block.name] = content
                yield block, status, content
            elif block.what == "replay":
                assert block.name is not None
                status, content = self.post(block.name)
                assert (status, content) == (200, self.answers[block.name]), "a replay must return the first answer"
        assert not curls, f"no documented answer for {sorted(curls)}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_page_marks_a_setup_a_curl_and_every_kind_of_example() -> None:
    blocks = doc_blocks(DOC.read_text())
    whats = [b.what for b in blocks]
    assert whats[0] == "setup" and "curl" in whats and "replay" in whats
    responses = {b.name: b for b in blocks if b.what == "response"}
    for name in ("sale", "refund", "training"):
        assert responses[name].status == 200 and responses[name].lang == "json"
        assert responses[f"{name}-xml"].status == 200 and responses[f"{name}-xml"].lang == "xml"
    statuses = {b.status for b in responses.values()}
    assert statuses == {200, 400, 401, 413}
    requests = {b.name for b in blocks if b.what == "request"}
    assert set(responses) - requests == {"too-large"}


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_every_example_of_the_page_is_what_a_fresh_v_sdc_answers(tmp_path: Path) -> None:
    blocks = doc_blocks(DOC.read_text())
    checked = []
    with ExitStack() as stack:
        replay = Replay(tmp_path, stack)
        for documented, status, content in replay.run(blocks):
            assert_matches(documented, status, content)
            checked.append(documented.name)
    assert len(checked) == sum(1 for b in blocks if b.what == "response")


LINE = {"quantity": 1, "base": 1, "code": "A", "total": 1}
PROBLEMS: dict[str, dict[str, Any]] = {
    "TIN is missing": {"tin": None},
    "Journal is missing": {"journal": None},
    "Line 1 code is missing": {"lines": [{"quantity": 1, "base": 1, "total": 1}]},
    "line 1 quantity is missing": {"lines": [{"base": 1, "code": "A", "total": 1}]},
    "ino is longer than 15 characters": {"ino": "x" * 16},
    "line 1 ean is shorter than 8 characters": {"lines": [{**LINE, "ean": "1234567"}]},
    "date must be formatted yyyy-MM-dd HH:mm:ss Z, e.g. 2014-12-31 21:07:36 -0400": {"date": "2026-12-07"},
    "itype must be one of Normal, Pro Forma, Training": {"itype": "Invoice"},
    "ttype must be one of Sale, Refund": {"ttype": "Return"},
    "line 1 code must be one of A, B, C, D": {"lines": [{**LINE, "code": "E"}]},
    "mb must be a number": {"mb": "ten"},
    "mb must be at least 0": {"mb": -1},
    "line 1 quantity must be greater than 0": {"lines": [{**LINE, "quantity": 0}]},
    "mb has more than 2 decimals": {"mb": "1.001"},
    "mr has more than 6 decimals": {"mr": "18.0000001"},
    "line 1 quantity has more than 3 decimals": {"lines": [{**LINE, "quantity": "1.0001"}]},
    "mr must be at most 100": {"mr": 101},
    "mb must be at most 9999999999999.99": {"mb": "10000000000000"},
    "line 1 quantity must be at most 999999999.999": {"lines": [{**LINE, "quantity": "1000000000"}]},
    "ino holds a control character": {"ino": "10\x0001"},
    "TIN must be a text": {"tin": ["123456789"]},
    "lines must be a list": {"lines": "none"},
    "line 1 must be an object": {"lines": ["none"]},
    "lines has more than 1000 entries": {"lines": [LINE] * 1001},
}


def documented_problems() -> list[str]:
    """The messages in the page's table of field problems (second column, in backticks)."""
    text = DOC.read_text()
    start = text.index("Each kind of problem has its own message:")
    table = text[start : text.index("\n\n#", start)]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| problem")]
    return [message for row in rows for message in re.findall(r"`([^`]+)`", row.split(" | ")[1])]


def test_the_pages_table_of_field_problems_lists_what_the_validation_says() -> None:
    assert sorted(documented_problems()) == sorted(PROBLEMS)
    base = {"tin": "123456789", "mcr": "777777777", "date": "2026-12-07 14:05:00 +0400", "itype": "Normal",
            "ttype": "Sale", "ino": "1001", "journal": "$$numberRecu$$", "lines": [LINE]}  # fmt: skip
    validate(base)  # valid as it is
    for message, changes in PROBLEMS.items():
        fields = {k: v for k, v in {**base, **changes}.items() if v is not None}
        with pytest.raises(VsdcRejected) as refused:
            validate(fields)
        assert message in refused.value.body["errors"], (message, refused.value.body)
