"""The SRC e-HDM simulator: a pure request handler over the persistent sandbox state.

``Simulator.handle(method, path, headers, body, client_cert=…, client_ip=…)`` → ``SandboxResponse``; the
HTTP server and the in-process httpx transport both call it.

Validation order (the contract's), each request in one transaction:

1. route: ``POST <root>/api/v1.0/<method>`` (else 404/405 in Spring's error shape);
2. JSON (105 WRONG_JSON) → ``crn`` present (197) and known (103 INVALID_CRN);
3. caller identity: client certificate serial → CRN/TIN, request ``tin``/``tpin``, caller IP (403);
4. required fields (197 FIELD_REQUIRED) and values outside their sets or of the wrong type (198);
5. status: blocked (199), not operating (196); ``activate`` needs Ընթացիկ (195);
6. seq (seq-carrying methods, when sent): ``increasing`` — greater than the last one; ``strict`` — last + 1
   (104 INVALID_SEQ). A request that fails before this step never consumes its seq; one that passes it
   consumes it whatever the outcome. A request without ``seq`` is accepted (the 2026 clients send none)
   unless ``require_seq`` is set;
7. business rules (§2.5, §2.8 of the contract): items, discounts, payments, returns.

Responses: ``{"code":0,"message":"OK","result":…}`` or ``{"code":…,"message":…,"errorMessage":…}`` with
HTTP ``error_status`` (200 by default) for business errors; ``errorMessage`` in hy/en/ru by the
``language`` header. Receipts carry ``receiptId`` as a string, ``time`` in UTC ms, ``emarkCount`` and an
``emarkVerificationCode`` key (null); return receipts carry no ``fiscal`` and ``FISCAL: null`` in the QR.

Faults (sandbox-only, set through ``/_sandbox/fault``), consumed once each: ``timeout`` (answer 101,
nothing done), ``internal`` (answer 500 after the seq check, nothing saved), ``drop`` (do the work, commit,
then lose the answer).
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from openvcr.authority.sandbox import arith
from openvcr.authority.sandbox import messages as m
from openvcr.authority.sandbox.state import Ecr, SandboxState, from_json, to_json

ROOT = "/taxsystem-rs-vcr"
API = "/api/v1.0/"
SEQ_METHODS = frozenset({"configureDepartments", "print", "printCopy", "getReturnedReceiptInfo", "printReturnReceipt"})
METHODS = frozenset({"checkConnection", "activate", "getGoodList"}) | SEQ_METHODS
_SNAKE = {
    "checkConnection": "check_connection",
    "activate": "activate",
    "configureDepartments": "configure_departments",
    "getGoodList": "get_good_list",
    "print": "print",
    "printCopy": "print_copy",
    "getReturnedReceiptInfo": "returned_info",
    "printReturnReceipt": "print_return",
}
ADG_RE = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,10})*$")
TIN_RE = re.compile(r"^[0-9]{8}$")
ZERO = Decimal("0")


@dataclass(frozen=True)
class SandboxConfig:
    seq_policy: str = "increasing"  # increasing | strict
    error_status: int = 200
    require_seq: bool = False
    require_client_cert: bool = False


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    drop: bool = False  # the work is done but the answer must be lost


class SrcError(Exception):
    def __init__(self, kind: m.ErrorKind, *args: object) -> None:
        super().__init__(kind.message)
        self.kind = kind
        self.args_ = args


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals become JSON numbers (44000.0, 36665.2) as the manual shows them."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json(value: Any) -> bytes:
    return json.dumps(_plain(value), ensure_ascii=False).encode()


def _scale(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _cert_serial(der: bytes) -> str | None:
    try:
        from cryptography import x509

        return format(x509.load_der_x509_certificate(der).serial_number, "x")
    except Exception:
        return None


class Body:
    """Typed access to the request body with SRC's error codes."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def require(self, key: str) -> Any:
        if self.data.get(key) is None:
            raise SrcError(m.FIELD_REQUIRED, key)
        return self.data[key]

    @staticmethod
    def to_int(value: Any, name: str) -> int:
        if isinstance(value, bool):
            raise SrcError(m.INVALID_FIELD, name, value)
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise SrcError(m.INVALID_FIELD, name, value) from None
        if number != number.to_integral_value():
            raise SrcError(m.INVALID_FIELD, name, value)
        return int(number)

    @staticmethod
    def to_dec(value: Any, name: str) -> Decimal:
        if isinstance(value, bool):
            raise SrcError(m.INVALID_FIELD, name, value)
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise SrcError(m.INVALID_FIELD, name, value) from None
        if not number.is_finite():
            raise SrcError(m.INVALID_FIELD, name, value)
        return number

    def int_(self, key: str, *, required: bool = True, default: int | None = None) -> int | None:
        if not self.has(key):
            if required:
                raise SrcError(m.FIELD_REQUIRED, key)
            return default
        return self.to_int(self.data[key], key)

    def dec(self, key: str, *, required: bool = False) -> Decimal:
        if not self.has(key):
            if required:
                raise SrcError(m.FIELD_REQUIRED, key)
            return ZERO
        return self.to_dec(self.data[key], key)

    def str_(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value is None else str(value)


class Simulator:
    """The SRC service's behaviour over a ``SandboxState``."""

    def __init__(self, state: SandboxState, config: SandboxConfig | None = None) -> None:
        self.state = state
        self.config = config or SandboxConfig()

    # --- entry point ---

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        client_cert: bytes | None = None,
        client_ip: str | None = None,
    ) -> SandboxResponse:
        lowered = {k.lower(): v for k, v in headers.items()}
        language = m.language_of(lowered.get("language"))
        route = path.split("?", 1)[0]
        if "/_sandbox/" in route:
            return self._admin(method, route.rsplit("/_sandbox/", 1)[1], body)
        name = route.rsplit(API, 1)[1] if API in route else None
        if name is None or name not in METHODS:
            return self._spring(404, "Not Found", route)
        if method.upper() != "POST":
            return self._spring(405, "Method Not Allowed", route)
        try:
            data = json.loads(body.decode("utf-8"), parse_float=Decimal) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return self._error(m.WRONG_JSON, (), language)
        try:
            return self._dispatch(name, Body(data), language, client_cert, client_ip)
        except SrcError as exc:
            return self._error(exc.kind, exc.args_, language)

    # --- envelopes ---

    def _ok(self, result: Any) -> SandboxResponse:
        return SandboxResponse(
            200,
            {"Content-Type": "application/json;charset=UTF-8"},
            _json({"code": 0, "message": "OK", "result": result}),
        )

    def _error(self, kind: m.ErrorKind, args: tuple[object, ...], language: str) -> SandboxResponse:
        status = self.config.error_status
        if kind.code == 403 and status != 200:
            status = 403
        return SandboxResponse(
            status,
            {"Content-Type": "application/json;charset=UTF-8"},
            _json({"code": kind.code, "message": kind.message, "errorMessage": m.text(kind, language, *args)}),
        )

    @staticmethod
    def _spring(status: int, error: str, path: str) -> SandboxResponse:
        body = {"timestamp": int(time.time() * 1000), "status": status, "error": error, "path": path}
        return SandboxResponse(status, {"Content-Type": "application/json"}, _json(body))

    # --- the pipeline ---

    def _dispatch(
        self, name: str, body: Body, language: str, client_cert: bytes | None, client_ip: str | None
    ) -> SandboxResponse:
        fault: str | None = None
        with self.state.transaction() as conn:
            try:
                crn = str(body.require("crn"))
                ecr = SandboxState.ecr(conn, crn)
                if ecr is None:
                    raise SrcError(m.INVALID_CRN)
                self._authorize(conn, ecr, body, client_cert, client_ip)
                fault = self._take_fault(conn, crn, name)
                if fault == "timeout":
                    raise SrcError(m.TIMEOUT)
                handler = getattr(self, "_m_" + _SNAKE[name])
                parser = getattr(self, "_p_" + _SNAKE[name], None)
                parsed = None if parser is None else parser(body)
                if name == "activate":
                    if ecr.status == "blocked":
                        raise SrcError(m.CRM_BLOCKED, ecr.blocked_on or "", ecr.blocked_protocol or "")
                elif name != "checkConnection":
                    self._require_operating(ecr, language)
                if name in SEQ_METHODS:
                    self._check_seq(conn, ecr, body)
                if fault == "internal":
                    raise SrcError(m.INTERNAL_DEPARTMENTS if name == "configureDepartments" else m.INTERNAL_RECEIPT)
                # Business errors still commit the seq consumed above.
                savepoint = "biz"
                conn.execute(f"SAVEPOINT {savepoint}")
                try:
                    result = handler(conn, ecr, body, parsed, language)
                except SrcError as exc:
                    conn.execute(f"ROLLBACK TO {savepoint}")
                    conn.execute(f"RELEASE {savepoint}")
                    response = self._error(exc.kind, exc.args_, language)
                else:
                    conn.execute(f"RELEASE {savepoint}")
                    response = self._ok(result)
            except SrcError as exc:  # committed: a consumed seq and a used fault stay so
                response = self._error(exc.kind, exc.args_, language)
        if fault == "drop":
            return SandboxResponse(response.status, response.headers, response.body, drop=True)
        return response

    def _authorize(
        self, conn: sqlite3.Connection, ecr: Ecr, body: Body, client_cert: bytes | None, client_ip: str | None
    ) -> None:
        claimed_tin = body.str_("tin") or body.str_("tpin")
        if client_cert is not None:
            serial = _cert_serial(client_cert)
            row = (
                None
                if serial is None
                else conn.execute("SELECT crn, tin FROM certs WHERE serial = ?", (serial,)).fetchone()
            )
            if row is None or (row["crn"] is not None and row["crn"] != ecr.crn):
                raise SrcError(m.UNAUTHORIZED_CERT)
            if row["tin"] is not None and row["tin"] != ecr.tin:
                raise SrcError(m.UNAUTHORIZED_TIN)
        elif self.config.require_client_cert:
            raise SrcError(m.UNAUTHORIZED_CERT)
        if claimed_tin is not None and claimed_tin != ecr.tin:
            raise SrcError(m.UNAUTHORIZED_TIN)
        if ecr.ip is not None and client_ip is not None and client_ip != ecr.ip:
            raise SrcError(m.UNAUTHORIZED_IP)

    @staticmethod
    def _take_fault(conn: sqlite3.Connection, crn: str, method: str) -> str | None:
        row = conn.execute(
            "SELECT id, fault FROM faults WHERE crn = ? AND method IN (?, '*') ORDER BY id LIMIT 1", (crn, method)
        ).fetchone()
        if row is None:
            return None
        conn.execute("DELETE FROM faults WHERE id = ?", (row["id"],))
        return str(row["fault"])

    @staticmethod
    def _require_operating(ecr: Ecr, language: str) -> None:
        if ecr.status == "blocked":
            raise SrcError(m.CRM_BLOCKED, ecr.blocked_on or "", ecr.blocked_protocol or "")
        if ecr.status != "operating":
            raise SrcError(m.INACTIVE_CRM, m.STATUS_NAMES[ecr.status][language])

    def _check_seq(self, conn: sqlite3.Connection, ecr: Ecr, body: Body) -> None:
        if not body.has("seq"):
            if self.config.require_seq:
                raise SrcError(m.FIELD_REQUIRED, "seq")
            return
        raw = body.data["seq"]
        try:
            seq = Body.to_int(raw, "seq")
        except SrcError:
            raise SrcError(m.INVALID_SEQ, "seq", raw) from None
        last = ecr.last_seq
        strict = self.config.seq_policy == "strict"
        if last is not None and (seq != last + 1 if strict else seq <= last):
            raise SrcError(m.INVALID_SEQ, "seq", seq)
        conn.execute("UPDATE ecrs SET last_seq = ? WHERE crn = ?", (seq, ecr.crn))

    # --- parse (pre-seq) checks: required fields and value sets ---

    def _p_configure_departments(self, body: Body) -> list[tuple[int, int]]:
        raw = body.data.get("departments")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise SrcError(m.INVALID_FIELD, "departments", raw)
        out = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise SrcError(m.INVALID_FIELD, "departments", entry)
            item = Body(entry)
            dep = item.int_("dep")
            regime = item.int_("taxRegime")
            assert dep is not None and regime is not None
            out.append((dep, regime))
        return out

    def _p_get_good_list(self, body: Body) -> int:
        regime = body.int_("taxRegime")
        body.require("tin")
        assert regime is not None
        if regime not in (1, 2, 3, 7):
            raise SrcError(m.INVALID_FIELD, "taxRegime", regime)
        return regime

    def _p_print(self, body: Body) -> dict[str, Any]:
        mode = body.int_("mode")
        cashier = body.int_("cashierId")
        body.require("cardAmount")
        body.require("cashAmount")
        if mode not in (2, 3):
            raise SrcError(m.INVALID_FIELD, "mode", mode)
        amounts = {k: body.dec(k) for k in ("cardAmount", "cashAmount", "partialAmount", "prePaymentAmount")}
        partner = body.str_("partnerTin")
        if partner is not None and not TIN_RE.match(partner):
            raise SrcError(m.INVALID_FIELD, "partnerTin", partner)
        items = body.data.get("items")
        if items is not None and not isinstance(items, list):
            raise SrcError(m.INVALID_FIELD, "items", items)
        emarks = self._emarks(body)
        return {
            "mode": mode,
            "cashier": cashier,
            "amounts": amounts,
            "partner": partner,
            "items": items or [],
            "emarks": emarks,
        }

    @staticmethod
    def _emarks(body: Body) -> list[str]:
        raw = body.data.get("emarks")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise SrcError(m.INVALID_FIELD, "emarks", raw)
        for mark in raw:
            if not isinstance(mark, str) or not 29 <= len(mark) <= 128:
                raise SrcError(m.INVALID_FIELD, "emarks", mark)
        return [str(x) for x in raw]

    def _p_print_copy(self, body: Body) -> int:
        value = body.int_("receiptId")
        assert value is not None
        return value

    _p_returned_info = _p_print_copy

    def _p_print_return(self, body: Body) -> dict[str, Any]:
        receipt_id = body.int_("receiptId")
        lines = body.data.get("returnItemList")
        if lines is not None and not isinstance(lines, list):
            raise SrcError(m.INVALID_FIELD, "returnItemList", lines)
        parsed_lines = []
        for entry in lines or []:
            if not isinstance(entry, dict):
                raise SrcError(m.INVALID_FIELD, "returnItemList", entry)
            item = Body(entry)
            pid = item.int_("receiptProductId")
            qty = item.dec("quantity", required=True)
            parsed_lines.append((pid, qty))
        amounts = {
            "card": body.dec("cardAmountForReturn"),
            "cash": body.dec("cashAmountForReturn"),
            "prepayment": body.dec("prePaymentAmountForReturn"),
        }
        return {
            "receipt_id": receipt_id,
            "lines": parsed_lines,
            "amounts": amounts,
            "source_crn": body.str_("sourceCrn"),
            "emarks": self._emarks(body),
        }

    # --- methods ---

    def _m_check_connection(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, parsed: Any, lang: str) -> Any:
        return m.SUCCESS[lang]

    def _m_activate(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, parsed: Any, lang: str) -> Any:
        if ecr.status != "current":
            raise SrcError(m.ACTIVATION_FAILED, m.STATUS_NAMES[ecr.status][lang])
        conn.execute("UPDATE ecrs SET status = 'operating' WHERE crn = ?", (ecr.crn,))
        return m.SUCCESS[lang]

    def _m_configure_departments(
        self, conn: sqlite3.Connection, ecr: Ecr, body: Body, parsed: list[tuple[int, int]], lang: str
    ) -> Any:
        if not parsed:
            raise SrcError(m.MISSING_DEPARTMENTS)
        seen: set[int] = set()
        for dep, regime in parsed:
            if regime not in (1, 2, 3, 7) or regime not in ecr.regimes or dep <= 0:
                raise SrcError(m.INVALID_TAX_REGIME, regime, dep)
            exists = conn.execute("SELECT 1 FROM departments WHERE crn = ? AND dep = ?", (ecr.crn, dep)).fetchone()
            if exists is not None or dep in seen:
                raise SrcError(m.EXISTING_DEPARTMENT, dep)
            seen.add(dep)
        for dep, regime in parsed:
            conn.execute("INSERT INTO departments (crn, dep, regime) VALUES (?, ?, ?)", (ecr.crn, dep, regime))
        return m.SUCCESS[lang]

    def _m_get_good_list(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, regime: int, lang: str) -> Any:
        if conn.execute("SELECT 1 FROM departments WHERE crn = ?", (ecr.crn,)).fetchone() is None:
            raise SrcError(m.MISSING_DEPARTMENTS)
        rows = conn.execute(
            "SELECT listname, goods FROM good_lists WHERE crn = ? AND regime = ? ORDER BY position",
            (ecr.crn, regime),
        ).fetchall()
        lists = []
        for row in rows:
            goods = [
                {"goodName": g["goodName"], "goodCode": g["goodCode"], "price": Decimal(g["price"])}
                for g in from_json(row["goods"])
            ]
            lists.append({"listname": row["listname"], "taxRegimeName": m.REGIME_NAMES[regime], "goods": goods})
        return {"goodLists": lists}

    def _m_print(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, p: dict[str, Any], lang: str) -> Any:
        if (ecr.cashiers is not None and p["cashier"] not in ecr.cashiers) or p["cashier"] < 1:
            raise SrcError(m.INVALID_FIELD, "cashierId", p["cashier"])
        amounts: dict[str, Decimal] = p["amounts"]
        for value in amounts.values():
            if value < 0:
                raise SrcError(m.INVALID_AMOUNTS)
            if _scale(value) > 2:
                raise SrcError(m.INVALID_ROUNDING)
        card, cash = amounts["cardAmount"], amounts["cashAmount"]
        partial, prepayment = amounts["partialAmount"], amounts["prePaymentAmount"]
        lines: list[dict[str, Any]] = []
        if p["mode"] == 3:
            if p["items"]:
                raise SrcError(m.INVALID_ITEMS)
            if prepayment != 0:
                raise SrcError(m.INVALID_PREPAYMENT_AMOUNT)
            total = card + cash + partial
            if total <= 0:
                raise SrcError(m.INVALID_PREPAYMENT_AMOUNT)
            change = ZERO
            sale_type, receipt_type, sub_type = 0, 3, 1
        else:
            if not p["items"]:
                raise SrcError(m.MISSING_GOODS)
            deps = {
                row["dep"]: row["regime"]
                for row in conn.execute("SELECT dep, regime FROM departments WHERE crn = ?", (ecr.crn,))
            }
            for index, raw in enumerate(p["items"]):
                lines.append(self._line(index, raw, deps))
            total = arith.round2(sum((line["totalWithTaxes"] for line in lines), ZERO))
            if prepayment > total:
                raise SrcError(m.INVALID_PREPAYMENT_AMOUNT)
            if card > total:
                raise SrcError(m.CARD_EXCEEDED_TOTAL, arith.format_amount(card), arith.format_amount(total))
            noncash = card + partial + prepayment
            if cash > 0 and noncash >= total:
                raise SrcError(m.REDUNDANT_CASH, arith.format_amount(cash))
            if noncash > total:
                raise SrcError(m.INVALID_AMOUNTS)
            paid = noncash + cash
            if paid < total:
                raise SrcError(m.PAID_LESS_THAN_TOTAL, arith.format_amount(paid), arith.format_amount(total))
            change = paid - total
            sale_type, receipt_type = 2, 0
            sub_type = 2 if partial > 0 else 3 if prepayment > 0 else 1
        receipt_id, now = self._next_receipt(conn, ecr)
        fiscal = f"{secrets.randbelow(90_000_000) + 10_000_000}"
        response = self._receipt_json(
            ecr, receipt_id, now, fiscal, total, change, cash, card, prepayment, partial, p["emarks"]
        )
        info = {
            "cashierId": p["cashier"],
            "cardAmount": card,
            "cashAmount": cash,
            "partnerTin": p["partner"],
            "partialAmount": partial,
            "prePayment": prepayment,
            "saleType": sale_type,
            "receiptType": receipt_type,
            "receiptSubType": sub_type,
            "totalAmount": total,
            "change": change,
            "time": now,
            "items": lines,
            "emarks": p["emarks"],
        }
        returned = {"lines": {}, "card": "0", "cash": "0", "prepayment": "0", "partial": "0", "total": "0"}
        conn.execute(
            "INSERT INTO receipts (crn, receipt_id, kind, time_ms, fiscal, response, info, returned)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ecr.crn,
                receipt_id,
                "prepayment" if p["mode"] == 3 else "sale",
                now,
                fiscal,
                to_json(response),
                to_json(info),
                to_json(returned),
            ),
        )
        return response

    def _line(self, index: int, raw: Any, deps: Mapping[int, int]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise SrcError(m.INVALID_FIELD, f"items[{index}]", raw)
        item = Body(raw)
        adg = item.str_("adgCode")
        if adg is None or not adg.strip():
            raise SrcError(m.ADG_CODE_REQUIRED)
        if not ADG_RE.match(adg.strip()):
            raise SrcError(m.INVALID_ADG_CODE, "adgCode", adg)
        dep = item.int_("dep")
        assert dep is not None
        if dep not in deps:
            raise SrcError(m.INVALID_FIELD, "dep", dep)
        code = item.str_("goodCode")
        if code is None or not code.strip() or len(code) > 50:
            raise SrcError(m.INVALID_GOOD_CODE, "goodCode", code)
        name = item.str_("goodName")
        if name is None or not name.strip() or len(name) > 50:
            raise SrcError(m.INVALID_GOOD_NAME, "goodName", name)
        unit = item.str_("unit")
        if unit is None or not unit.strip() or len(unit) > 50:
            raise SrcError(m.INVALID_MEASURE_UNIT, "unit", unit)
        qty = item.dec("quantity", required=True)
        if qty <= 0:
            raise SrcError(m.NON_POSITIVE_VALUE, "quantity")
        price = item.dec("price", required=True)
        if price <= 0:
            raise SrcError(m.NON_POSITIVE_VALUE, "price")
        if _scale(qty) > 3 or _scale(price) > 2:
            raise SrcError(m.INVALID_ROUNDING)
        discount = item.dec("discount") if item.has("discount") else None
        dtype = item.int_("discountType", required=False) if discount is not None else None
        if discount is not None:
            if dtype not in arith.PRIMARY_TYPES:
                raise SrcError(m.INVALID_DISCOUNT_TYPE, "discountType", dtype)
            if discount < 0 or (dtype == 1 and discount >= 100):
                raise SrcError(m.INVALID_DISCOUNT_VALUE, "discount", discount)
            if _scale(discount) > 2:
                raise SrcError(m.INVALID_ROUNDING)
        additional = item.dec("additionalDiscount") if item.has("additionalDiscount") else None
        atype = item.int_("additionalDiscountType", required=False) if additional is not None else None
        if additional is not None:
            if atype not in arith.ADDITIONAL_TYPES:
                raise SrcError(m.INVALID_DISCOUNT_TYPE, "additionalDiscountType", atype)
            if additional < 0 or (atype == 8 and additional >= 100):
                raise SrcError(m.INVALID_DISCOUNT_VALUE, "additionalDiscount", additional)
            if _scale(additional) > 2:
                raise SrcError(m.INVALID_ROUNDING)
        total = arith.line_total(price, qty, discount, dtype, additional, atype)
        if total <= 0:
            raise SrcError(m.ITEM_FULL_PRICE_NON_POSITIVE, "price", total)
        regime = deps[dep]
        vat = arith.vat_of_regime(regime)
        line: dict[str, Any] = {"receiptProductId": index, "quantity": qty}
        if additional is not None:
            line["additionalDiscount"] = additional
            line["additionalDiscountType"] = atype
        line["dep"] = dep
        if discount is not None:
            line["discount"] = discount
            line["discountType"] = dtype
        line.update(
            {
                "vat": vat,
                "taxRegime": regime,
                "goodCode": code,
                "goodName": name,
                "adgCode": adg,
                "unit": unit,
                "price": price,
                "totalWithoutTaxes": arith.without_taxes(total, vat),
                "totalWithTaxes": total,
            }
        )
        return line

    @staticmethod
    def _next_receipt(conn: sqlite3.Connection, ecr: Ecr) -> tuple[int, int]:
        row = conn.execute(
            "UPDATE ecrs SET next_receipt_id = next_receipt_id + 1 WHERE crn = ? RETURNING next_receipt_id",
            (ecr.crn,),
        ).fetchone()
        return int(row[0]) - 1, time.time_ns() // 1_000_000

    @staticmethod
    def _receipt_json(
        ecr: Ecr,
        receipt_id: int,
        now: int,
        fiscal: str | None,
        total: Decimal,
        change: Decimal,
        cash: Decimal,
        noncash: Decimal,
        prepayment: Decimal,
        partial: Decimal,
        emarks: list[str],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "receiptId": str(receipt_id),
            "crn": ecr.crn,
            "sn": ecr.sn,
            "tin": ecr.tin,
            "taxpayer": ecr.taxpayer,
            "address": ecr.address,
            "time": now,
        }
        if fiscal is not None:
            out["fiscal"] = fiscal
        out.update(
            {
                "total": total,
                "change": change,
                "qr": arith.qr_text(
                    tin=ecr.tin,
                    crn=ecr.crn,
                    sn=ecr.sn,
                    receipt_id=receipt_id,
                    time_ms=now,
                    fiscal=fiscal,
                    cash=cash,
                    noncash=noncash,
                    prepayment=prepayment,
                    partial=partial,
                    total=total,
                ),
                "emarkCount": len(emarks),
                "emarkVerificationCode": None,
            }
        )
        return out

    def _load(self, conn: sqlite3.Connection, crn: str, receipt_id: int) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM receipts WHERE crn = ? AND receipt_id = ?", (crn, receipt_id)
        ).fetchone()
        if row is None:
            raise SrcError(m.RECEIPT_DOES_NOT_EXIST)
        return row

    def _m_print_copy(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, receipt_id: int, lang: str) -> Any:
        row = self._load(conn, ecr.crn, receipt_id)
        return _decimals(from_json(row["response"]))

    def _source(self, conn: sqlite3.Connection, ecr: Ecr, source_crn: str | None) -> str:
        if source_crn is None or source_crn == ecr.crn:
            return ecr.crn
        other = SandboxState.ecr(conn, source_crn)
        if other is None or other.tin != ecr.tin:
            raise SrcError(m.INVALID_FIELD, "sourceCrn", source_crn)
        return source_crn

    def _m_returned_info(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, receipt_id: int, lang: str) -> Any:
        source = self._source(conn, ecr, body.str_("sourceCrn"))
        row = self._load(conn, source, receipt_id)
        if row["kind"] == "return":
            raise SrcError(m.RETURN_OF_RETURN)
        info = _decimals(from_json(row["info"]))
        returned = from_json(row["returned"])
        items = []
        for line in info["items"]:
            pid = str(line["receiptProductId"])
            done_qty = Decimal(returned["lines"].get(pid, {}).get("quantity", "0"))
            done_amount = Decimal(returned["lines"].get(pid, {}).get("amount", "0"))
            left_qty = line["quantity"] - done_qty
            if left_qty <= 0:
                continue
            left = line["totalWithTaxes"] - done_amount
            items.append(
                line
                | {
                    "quantity": left_qty,
                    "totalWithTaxes": left,
                    "totalWithoutTaxes": arith.without_taxes(left, line["vat"]),
                }
            )
        result = {
            "cashierId": info["cashierId"],
            "cardAmount": info["cardAmount"] - Decimal(returned["card"]),
            "cashAmount": info["cashAmount"] - Decimal(returned["cash"]),
            "partnerTin": info["partnerTin"],
            "partialAmount": info["partialAmount"] - Decimal(returned["partial"]),
            "prePayment": info["prePayment"] - Decimal(returned["prepayment"]),
            "saleType": info["saleType"],
            "receiptType": info["receiptType"],
            "receiptSubType": info["receiptSubType"],
            "totalAmount": info["totalAmount"] - Decimal(returned["total"]),
            "time": info["time"],
            "items": items,
            "emarks": info.get("emarks") or [],
        }
        if result["partnerTin"] is None:
            del result["partnerTin"]
        return result

    def _m_print_return(self, conn: sqlite3.Connection, ecr: Ecr, body: Body, p: dict[str, Any], lang: str) -> Any:
        source = self._source(conn, ecr, p["source_crn"])
        row = self._load(conn, source, p["receipt_id"])
        if row["kind"] == "return":
            raise SrcError(m.RETURN_OF_RETURN)
        info = _decimals(from_json(row["info"]))
        returned = from_json(row["returned"])
        remaining_total = info["totalAmount"] - Decimal(returned["total"])
        if remaining_total <= 0:
            raise SrcError(m.ALREADY_RETURNED)
        amounts: dict[str, Decimal] = p["amounts"]
        for value in amounts.values():
            if value < 0:
                raise SrcError(m.RETURN_WRONG_AMOUNTS)
            if _scale(value) > 2:
                raise SrcError(m.INVALID_ROUNDING)
        line_updates: dict[str, dict[str, str]] = {}
        partial_share = ZERO
        if row["kind"] == "prepayment":
            if p["lines"]:
                raise SrcError(m.UNSUPPORTED_RETURN_TYPE)
            due = amounts["card"] + amounts["cash"] + amounts["prepayment"]
            if due <= 0 or due > remaining_total:
                raise SrcError(m.RETURN_WRONG_AMOUNTS)
            sub_type = 6
        else:
            by_id = {int(line["receiptProductId"]): line for line in info["items"]}
            requested: list[tuple[int, Decimal]] = p["lines"]
            if not requested:  # no list: the whole remainder
                requested = []
                for pid, line in by_id.items():
                    left = line["quantity"] - Decimal(returned["lines"].get(str(pid), {}).get("quantity", "0"))
                    if left > 0:
                        requested.append((pid, left))
            seen: set[int] = set()
            due = ZERO
            full = True
            for pid, qty in requested:
                if pid not in by_id or pid in seen:
                    raise SrcError(m.INVALID_RECEIPT_PRODUCT_ID)
                seen.add(pid)
                line = by_id[pid]
                done = returned["lines"].get(str(pid), {"quantity": "0", "amount": "0"})
                left_qty = line["quantity"] - Decimal(done["quantity"])
                if qty <= 0 or _scale(qty) > 3 or qty > left_qty:
                    raise SrcError(m.INVALID_QUANTITY_FOR_ITEM, "quantity", qty)
                left_amount = line["totalWithTaxes"] - Decimal(done["amount"])
                part = (
                    left_amount
                    if qty == left_qty
                    else arith.proportional(line["totalWithTaxes"], qty, line["quantity"])
                )
                full = full and qty == left_qty
                due += part
                line_updates[str(pid)] = {
                    "quantity": str(Decimal(done["quantity"]) + qty),
                    "amount": str(Decimal(done["amount"]) + part),
                }
            for pid, line in by_id.items():
                left = line["quantity"] - Decimal(returned["lines"].get(str(pid), {}).get("quantity", "0"))
                if left > 0 and pid not in seen:
                    full = False
            if info["partialAmount"] > 0:
                if not full:
                    raise SrcError(m.PARTIAL_PAYMENT_FULL_RETURN)
                partial_share = info["partialAmount"] - Decimal(returned["partial"])
            if amounts["card"] + amounts["cash"] + amounts["prepayment"] + partial_share != due:
                raise SrcError(m.RETURN_WRONG_AMOUNTS)
            sub_type = 5 if info["partialAmount"] > 0 else 4
        net_cash = info["cashAmount"] - info.get("change", ZERO) - Decimal(returned["cash"])
        if (
            amounts["card"] > info["cardAmount"] - Decimal(returned["card"])
            or amounts["cash"] > net_cash
            or amounts["prepayment"] > info["prePayment"] - Decimal(returned["prepayment"])
        ):
            raise SrcError(m.RETURN_WRONG_AMOUNTS)
        receipt_id, now = self._next_receipt(conn, ecr)
        response = self._receipt_json(
            ecr,
            receipt_id,
            now,
            None,
            due,
            ZERO,
            amounts["cash"],
            amounts["card"],
            amounts["prepayment"],
            partial_share,
            p["emarks"],
        )
        new_lines = dict(returned["lines"]) | line_updates
        new_returned = {
            "lines": new_lines,
            "card": str(Decimal(returned["card"]) + amounts["card"]),
            "cash": str(Decimal(returned["cash"]) + amounts["cash"]),
            "prepayment": str(Decimal(returned["prepayment"]) + amounts["prepayment"]),
            "partial": str(Decimal(returned["partial"]) + partial_share),
            "total": str(Decimal(returned["total"]) + due),
        }
        conn.execute(
            "UPDATE receipts SET returned = ? WHERE crn = ? AND receipt_id = ?",
            (to_json(new_returned), source, p["receipt_id"]),
        )
        return_info = {
            "cardAmount": amounts["card"],
            "cashAmount": amounts["cash"],
            "prePayment": amounts["prepayment"],
            "partialAmount": partial_share,
            "receiptType": 2,
            "receiptSubType": sub_type,
            "totalAmount": due,
            "time": now,
            "lines": line_updates,
            "sourceCrn": source,
        }
        conn.execute(
            "INSERT INTO receipts (crn, receipt_id, kind, time_ms, fiscal, response, info, returned,"
            " source_receipt_id) VALUES (?, ?, 'return', ?, NULL, ?, ?, '{}', ?)",
            (ecr.crn, receipt_id, now, to_json(response), to_json(return_info), p["receipt_id"]),
        )
        return response

    # --- sandbox administration (not part of SRC) ---

    def _admin(self, method: str, action: str, body: bytes) -> SandboxResponse:
        try:
            data = json.loads(body.decode() or "{}")
            if not isinstance(data, dict):
                raise ValueError("a JSON object is required")
            result = self.admin(action, data)
        except (ValueError, KeyError, TypeError) as exc:
            return SandboxResponse(400, {"Content-Type": "application/json"}, _json({"error": str(exc)}))
        if result is None:
            return SandboxResponse(404, {"Content-Type": "application/json"}, _json({"error": "not found"}))
        return SandboxResponse(200, {"Content-Type": "application/json"}, _json(result))

    def admin(self, action: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """Sandbox-only operations: provision, status, fault, state."""
        if action == "provision":
            cashiers = data.get("cashiers")
            crn, sn = self.state.register(
                tin=str(data["tin"]),
                taxpayer=str(data["taxpayer"]),
                address=str(data["address"]),
                crn=data.get("crn"),
                sn=data.get("sn"),
                status=str(data.get("status", "current")),
                cashiers=None if cashiers is None else [int(c) for c in cashiers],
                ip=data.get("ip"),
                created_at=time.time_ns() // 1_000_000,
            )
            return {"crn": crn, "sn": sn}
        if action == "status":
            self.state.set_status(
                str(data["crn"]),
                str(data["status"]),
                blocked_on=data.get("blockedOn"),
                protocol=data.get("protocol"),
            )
            return {"ok": True}
        if action == "fault":
            fault = str(data["fault"])
            if fault not in ("timeout", "internal", "drop"):
                raise ValueError(f"unknown fault {fault!r}")
            self.state.add_fault(str(data["crn"]), str(data.get("method", "*")), fault)
            return {"ok": True}
        if action == "state":
            return self.state.summary(str(data["crn"]))
        return None


def _decimals(value: Any) -> Any:
    """Stored JSON back to Decimals (amount strings) for the money fields."""
    money_keys = {
        "total",
        "change",
        "cardAmount",
        "cashAmount",
        "partialAmount",
        "prePayment",
        "totalAmount",
        "quantity",
        "price",
        "discount",
        "additionalDiscount",
        "vat",
        "totalWithoutTaxes",
        "totalWithTaxes",
    }
    if isinstance(value, dict):
        return {k: (Decimal(v) if k in money_keys and isinstance(v, str) else _decimals(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value
