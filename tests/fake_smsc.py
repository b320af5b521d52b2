"""A small SMSC of the tests' own: SMPP 3.4 PDUs over real TCP, written and read here with ``struct``.

It speaks: ``bind_transmitter``/``bind_transceiver``/``bind_receiver`` (checking system_id and password),
``submit_sm`` → ``submit_sm_resp`` with a message id (or a scripted error status: ``fail_next``), ``enquire_link``,
``unbind``; ``deliver_sm`` delivery receipts to the bound receiving sessions (``receipt``, or at once after each
accepted ``submit_sm`` with ``auto_receipt``), and it records each ``deliver_sm_resp``. ``silent_next`` takes a
``submit_sm`` and never answers (the client's answer is lost). ``stop()`` closes the port and every session;
``start()`` opens the same port again.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000

ESME_ROK = 0x00
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RTHROTTLED = 0x58

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
MESSAGE_STATES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8}


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = ESME_ROK) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def cstring(value: str) -> bytes:
    return value.encode("ascii") + b"\x00"


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def cstring(self) -> str:
        end = self.data.index(b"\x00", self.pos)
        value = self.data[self.pos : end].decode("ascii")
        self.pos = end + 1
        return value

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def octets(self, n: int) -> bytes:
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return value


@dataclass(frozen=True)
class Submitted:
    """One ``submit_sm`` as the SMSC read it."""

    system_id: str
    source_ton: int
    source_npi: int
    source: str
    dest_ton: int
    dest_npi: int
    destination: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    message_id: str | None  # None: refused or never answered
    status: int

    @property
    def udh(self) -> bytes:
        return self.short_message[: self.short_message[0] + 1] if self.esm_class & 0x40 else b""

    @property
    def text(self) -> str:
        body = self.short_message[len(self.udh) :]
        return body.decode("utf-16-be") if self.data_coding == 8 else body.decode("ascii", "replace")


@dataclass
class Session:
    sock: socket.socket
    bound_as: int | None = None
    system_id: str = ""
    sequence: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


class FakeSmsc:
    """See the module docstring."""

    def __init__(
        self,
        port: int,
        *,
        system_id: str = "openvcr",
        password: str = "secret",  # noqa: S107
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.port = port
        self.tls = tls
        self.system_id = system_id
        self.password = password
        self.submitted: list[Submitted] = []
        self.binds: list[tuple[int, str, int]] = []  # (command, system_id, status)
        self.enquire_links = 0
        self.unbinds = 0
        self.receipt_acks: list[tuple[str, int]] = []  # (message id, deliver_sm_resp status)
        self.fail_next: list[int] = []  # error statuses for the next submit_sm, in order
        self.silent_next = 0  # how many next submit_sm get no answer at all
        self.auto_receipt: str | None = None  # a receipt state sent right after each accepted submit_sm
        self.changed = threading.Condition()
        self._sessions: list[Session] = []
        self._server: socket.socket | None = None
        self._next_id = 0
        self._pending_acks: dict[int, str] = {}

    # ---- life -------------------------------------------------------------------------------------------------

    def start(self) -> FakeSmsc:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(8)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True, name="fake-smsc").start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            server.close()
        for session in list(self._sessions):
            self._close(session)

    def _close(self, session: Session) -> None:
        with suppress(OSError):
            session.sock.shutdown(socket.SHUT_RDWR)
        session.sock.close()
        if session in self._sessions:
            self._sessions.remove(session)

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                sock, _ = server.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    sock = self.tls.wrap_socket(sock, server_side=True)
                except (OSError, ssl.SSLError):
                    sock.close()
                    continue
            session = Session(sock)
            self._sessions.append(session)
            threading.Thread(target=self._serve, args=(session,), daemon=True, name="fake-smsc-session").start()

    # ---- one session ----------------------------------------------------------------------------------------------

    def _read(self, sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _serve(self, session: Session) -> None:
        try:
            while True:
                length, command, status, sequence = struct.unpack(">IIII", self._read(session.sock, 16))
                body = self._read(session.sock, length - 16)
                self._dispatch(session, command, status, sequence, body)
        except (ConnectionError, OSError):
            pass
        finally:
            self._close(session)
            self._notify()

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def _dispatch(self, session: Session, command: int, status: int, sequence: int, body: bytes) -> None:
        if command in (BIND_TRANSMITTER, BIND_TRANSCEIVER, BIND_RECEIVER):
            reader = Reader(body)
            system_id, password = reader.cstring(), reader.cstring()
            ok = system_id == self.system_id and password == self.password
            result = ESME_ROK if ok else ESME_RINVPASWD
            self.binds.append((command, system_id, result))
            if ok:
                session.bound_as, session.system_id = command, system_id
            session.send(pdu(command | RESP, sequence, cstring("FakeSMSC") if ok else b"", result))
        elif command == SUBMIT_SM:
            self._submit(session, sequence, body)
        elif command == ENQUIRE_LINK:
            self.enquire_links += 1
            session.send(pdu(ENQUIRE_LINK | RESP, sequence))
        elif command == UNBIND:
            self.unbinds += 1
            session.send(pdu(UNBIND | RESP, sequence))
            session.bound_as = None
        elif command == DELIVER_SM | RESP:
            message_id = self._pending_acks.pop(sequence, "?")
            self.receipt_acks.append((message_id, status))
        elif not command & RESP:
            session.send(pdu(GENERIC_NACK, sequence, status=0x03))
        self._notify()

    def _submit(self, session: Session, sequence: int, body: bytes) -> None:
        r = Reader(body)
        r.cstring()  # service_type
        source_ton, source_npi, source = r.byte(), r.byte(), r.cstring()
        dest_ton, dest_npi, destination = r.byte(), r.byte(), r.cstring()
        esm_class = r.byte()
        r.byte(), r.byte()  # protocol_id, priority_flag
        r.cstring(), r.cstring()  # schedule_delivery_time, validity_period
        registered_delivery = r.byte()
        r.byte()  # replace_if_present_flag
        data_coding = r.byte()
        r.byte()  # sm_default_msg_id
        short_message = r.octets(r.byte())
        if session.bound_as not in (BIND_TRANSMITTER, BIND_TRANSCEIVER):
            session.send(pdu(SUBMIT_SM | RESP, sequence, b"", 0x04))  # ESME_RINVBNDSTS
            return
        status = self.fail_next.pop(0) if self.fail_next else ESME_ROK
        silent = status == ESME_ROK and self.silent_next > 0
        message_id = None
        if status == ESME_ROK:
            self._next_id += 1
            message_id = f"msg{self._next_id:06d}"
        self.submitted.append(
            Submitted(
                session.system_id,
                source_ton,
                source_npi,
                source,
                dest_ton,
                dest_npi,
                destination,
                esm_class,
                registered_delivery,
                data_coding,
                short_message,
                message_id,
                status,
            )
        )
        if silent:
            self.silent_next -= 1
            return
        session.send(pdu(SUBMIT_SM | RESP, sequence, cstring(message_id) if message_id else b"", status))
        if message_id and self.auto_receipt and registered_delivery & 0x01:
            self.receipt(message_id, self.auto_receipt)

    # ---- delivery receipts --------------------------------------------------------------------------------------

    def receipt(self, message_id: str, state: str = "DELIVRD", error: str = "000") -> bool:
        """Send a delivery receipt for ``message_id`` on a bound receiving session; False when none is bound."""
        receivers = [s for s in self._sessions if s.bound_as in (BIND_TRANSCEIVER, BIND_RECEIVER)]
        if not receivers:
            return False
        session = receivers[0]
        stamp = time.strftime("%y%m%d%H%M")
        text = f"id:{message_id} sub:001 dlvrd:{'001' if state == 'DELIVRD' else '000'} submit date:{stamp} "
        text += f"done date:{stamp} stat:{state} err:{error} text:"
        short = text.encode("ascii")
        body = (
            cstring("")  # service_type
            + bytes([1, 1])
            + cstring("37491000000")  # source: the phone
            + bytes([5, 0])
            + cstring("OpenVCR")
            + bytes([0x04, 0, 0])  # esm_class: SMSC delivery receipt, protocol_id, priority_flag
            + cstring("")
            + cstring("")
            + bytes([0, 0, 0, 0, len(short)])
            + short
            + struct.pack(">HH", TLV_RECEIPTED_MESSAGE_ID, len(message_id) + 1)
            + cstring(message_id)
            + struct.pack(">HHB", TLV_MESSAGE_STATE, 1, MESSAGE_STATES[state])
        )
        sequence = session.next_sequence()
        self._pending_acks[sequence] = message_id
        session.send(pdu(DELIVER_SM, sequence, body))
        return True

    # ---- waiting ----------------------------------------------------------------------------------------------

    def wait_for(self, predicate: object, timeout: float = 20.0) -> None:
        """Wait until ``predicate()`` is true (AssertionError after ``timeout``)."""
        assert callable(predicate)
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fake SMSC waited in vain")
                self.changed.wait(min(left, 0.1))

    def bound_sessions(self) -> int:
        return sum(1 for s in self._sessions if s.bound_as is not None)


@contextmanager
def fake_smsc(port: int, **options: Any) -> Iterator[FakeSmsc]:
    smsc = FakeSmsc(port, **options).start()
    try:
        yield smsc
    finally:
        smsc.stop()
