"""Sales and sale refunds: validated, computed with ``core.receipt``, registered with SRC, journaled.

Rules:
- Every reference (cashier, department, offer) must belong to the caller's register; unknown ones are 400s
  naming the field. Archived offers cannot be sold. A whole new offer in a sale is created when the sale
  completes, or reused when its ``externalId`` already exists.
- Foreign-currency lines are converted to AMD at the CBA rate of the previous business day (per unit price,
  half-up to the cent); all foreign lines of a sale share one currency and cannot be mixed with AMD lines.
- ``emarks``: one code per physical unit (the count equals the quantity).
- Payments follow the SRC rules (``core.receipt.settle``); ``autoSettle`` charges the total to one tender;
  ``prepayment`` draws on the buyer's open prepayment balance of the business entity, oldest first (FIFO),
  and must not exceed it.
- Refunds: by line (``srcId``) and quantity, default everything still refundable; amounts default to the
  proportional share split as originally paid; a sale paid partly by compensation is refunded only in full
  (SRC 179); an over-refund is a 409 that writes nothing.
- A document is ``pending`` until SRC registered it (see ``sales.documents``); nothing but the pending rows
  exist before SRC answered, and they are removed when SRC refuses or cannot be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from openvcr.authority.gateway import PrintItem, PrintRequest, Receipt, ReturnLine, ReturnRequest
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import Cashier, Department, Offer, OfferTitle
from openvcr.catalog.service import OfferSpec, create_offer_in, offer_title
from openvcr.config import Settings
from openvcr.core.errors import Conflict, Issue, NotFound, ValidationFailed
from openvcr.core.journal import CountersDelta
from openvcr.core.money import ZERO, round_money
from openvcr.core.receipt import (
    SRC_ADDITIONAL_CODE,
    SRC_BASE_CODE,
    AdditionalDiscount,
    ArithmeticRuleError,
    BaseDiscount,
    Line,
    Tenders,
    line_refund,
    line_total,
    settle,
    split_refund,
    vat_of,
)
from openvcr.core.signing import Signer
from openvcr.prepayments.ledger import hold_prepayment, return_prepayment, returnable_prepayment
from openvcr.registers.models import Register
from openvcr.registers.repository import get_register
from openvcr.registers.signing_keys import signer_for
from openvcr.sales import documents
from openvcr.sales.rates import rate_for_sale
from openvcr.sales.recovery import DocumentKind
from openvcr.sales.schemas import OfferRef, SaleCreate, SaleRefundCreate
from openvcr.sales.units import SRC_UNIT_NAMES
from openvcr.store.db import Database
from openvcr.store.schema.sales import sale_items, sale_refund_items, sale_refunds, sales

SALE_MODE = 2
GOOD_TEXT_MAX = 50


def _fail(path: Sequence[str | int], message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, [Issue(tuple(path), message, code)])


def find_cashier(conn: Connection, register_id: int, ref: Any, path: Sequence[str | int] = ("cashier",)) -> Cashier:
    cashier = catalog_repo.find_cashier(conn, register_id, cashier_id=ref.id, desk_id=ref.desk_id)
    if cashier is None:
        raise _fail(path, "cashier not found")
    return cashier


def _department(conn: Connection, register_id: int, department_id: int, path: list[str | int]) -> Department:
    department = catalog_repo.find_department(conn, register_id, department_id)
    if department is None or not department.confirmed:
        raise _fail(path, f"department {department_id} not found")
    return department


@dataclass
class _OfferChoice:
    offer: Offer | None  # an existing offer
    spec: OfferSpec | None  # a new offer, created when the sale completes

    @property
    def snapshot(self) -> dict[str, Any]:
        if self.offer is not None:
            return {
                "type": self.offer.type,
                "classifierCode": self.offer.classifier_code,
                "externalId": self.offer.external_id,
                "title": self.offer.title.to_json(),
            }
        assert self.spec is not None
        return {
            "type": self.spec.type,
            "classifierCode": self.spec.classifier_code,
            "externalId": self.spec.external_id,
            "title": self.spec.title.to_json(),
        }


def _resolve_offer(
    conn: Connection, register_id: int, ref: OfferRef, path: list[str | int], new_offers: dict[str, OfferSpec]
) -> _OfferChoice:
    if ref.id is not None and not ref.is_new:
        offer = catalog_repo.find_offer(conn, register_id, offer_id=ref.id)
        if offer is None:
            raise _fail([*path, "id"], f"offer {ref.id} not found")
    else:
        assert ref.external_id is not None
        offer = catalog_repo.find_offer(conn, register_id, external_id=ref.external_id)
        if offer is None and not ref.is_new:
            raise _fail([*path, "externalId"], f"no offer with externalId {ref.external_id!r}")
    if offer is not None:
        if offer.archived_at is not None:
            raise _fail(path, f"offer {offer.id} is archived")
        return _OfferChoice(offer, None)
    assert ref.title is not None and ref.type and ref.classifier_code and ref.default_measure_unit
    assert ref.default_department is not None and ref.external_id is not None
    if ref.external_id in new_offers:
        return _OfferChoice(None, new_offers[ref.external_id])
    if ref.title.type == "universal":
        title = offer_title("universal", str(ref.title.content), None, [*path, "title"])
    else:
        title = offer_title(
            "localized", ref.title.localized_content(), ref.title.localization_strategy, [*path, "title"]
        )
    _department(conn, register_id, ref.default_department.id, [*path, "defaultDepartment", "id"])
    spec = OfferSpec(
        type=ref.type,
        classifier_code=ref.classifier_code,
        title=title,
        unit=ref.default_measure_unit,
        department_id=ref.default_department.id,
        external_id=ref.external_id,
    )
    new_offers[ref.external_id] = spec
    return _OfferChoice(None, spec)


def _good_name(title: OfferTitle) -> str:
    return title.text("hy")[:GOOD_TEXT_MAX]


@dataclass
class _DraftLine:
    line_no: int
    choice: _OfferChoice
    department: Department
    quantity: Decimal
    price: Decimal
    foreign_price: Decimal | None
    unit: str
    line: Line
    total: Decimal
    vat: Decimal
    emarks: list[str] | None


@dataclass
class _SaleDraft:
    register: Register
    cashier: Cashier
    lines: list[_DraftLine]
    total: Decimal
    vat: Decimal
    paid: Tenders
    change: Decimal
    currency: str | None
    rate: Decimal | None
    new_offers: dict[str, OfferSpec]
    request: PrintRequest
    sale_id: int = 0
    url_id: str = ""
    holds: list[tuple[int, Decimal]] = field(default_factory=list)


def _line_of(item: Any, price: Decimal, path: list[str | int]) -> Line:
    discounts = item.discounts
    base = discounts.base if discounts else None
    additional = discounts.additional if discounts else None
    return Line(
        quantity=item.quantity,
        price=price,
        base_type=BaseDiscount(base.type) if base else None,
        base_value=base.value if base else None,
        additional_type=AdditionalDiscount(additional.type) if additional else None,
        additional_value=additional.value if additional else None,
    )


def _arith_path(path: list[str | int], error: ArithmeticRuleError) -> list[str | int]:
    return [*path, *error.field.split(".")]


class SalesService:
    def __init__(self, db: Database, src: SrcService, settings: Settings) -> None:
        self.db = db
        self.src = src
        self.settings = settings

    def _signer(self, conn: Connection, register_id: int) -> Signer:
        return signer_for(conn, register_id, self.settings.master_key.get_secret_value())

    # ---- sales -------------------------------------------------------------------------------------------

    def _draft_sale(self, conn: Connection, register_id: int, body: SaleCreate) -> _SaleDraft:
        register = get_register(conn, register_id)
        cashier = find_cashier(conn, register_id, body.cashier)
        new_offers: dict[str, OfferSpec] = {}
        lines: list[_DraftLine] = []
        currency: str | None = None
        rate: Decimal | None = None
        amd_lines: list[int] = []
        for index, item in enumerate(body.items):
            path: list[str | int] = ["items", index]
            department = _department(conn, register_id, item.department.id, [*path, "department", "id"])
            choice = _resolve_offer(conn, register_id, item.offer, [*path, "offer"], new_offers)
            price = item.price
            foreign_price = None
            code = item.currency.upper() if item.currency else "AMD"
            if code == "AMD":
                amd_lines.append(index)
            else:
                if currency is not None and code != currency:
                    raise _fail([*path, "currency"], "all foreign-currency lines of a sale share one currency")
                if currency is None:
                    currency = code
                    rate = rate_for_sale(conn, code, [*path, "currency"])
                assert rate is not None
                foreign_price = price
                price = round_money(price * rate)
            if item.emarks is not None and Decimal(len(item.emarks)) != item.quantity:
                raise _fail([*path, "emarks"], "give one eMark code per unit: their count must equal the quantity")
            line = _line_of(item, price, path)
            try:
                total = line_total(line)
            except ArithmeticRuleError as error:
                raise _fail(_arith_path(path, error), error.message) from error
            lines.append(
                _DraftLine(
                    line_no=index,
                    choice=choice,
                    department=department,
                    quantity=item.quantity,
                    price=price,
                    foreign_price=foreign_price,
                    unit=item.unit,
                    line=line,
                    total=total,
                    vat=vat_of(total, department.tax_regime),
                    emarks=item.emarks,
                )
            )
        if currency is not None and amd_lines:
            raise _fail(["items", amd_lines[0], "currency"], "AMD and foreign-currency lines cannot be mixed")
        total = sum((line.total for line in lines), ZERO)
        vat = sum((line.vat for line in lines), ZERO)
        if body.auto_settle is not None:
            paid = Tenders(cash=total) if body.auto_settle.tender == "cash" else Tenders(non_cash=total)
        else:
            assert body.amount is not None
            paid = Tenders(
                cash=body.amount.cash or ZERO,
                non_cash=body.amount.non_cash or ZERO,
                prepayment=body.amount.prepayment or ZERO,
                compensation=body.amount.compensation or ZERO,
            )
        try:
            change = settle(total, paid)
        except ArithmeticRuleError as error:
            raise _fail(["amount"] if error.field == "amount" else ["amount", error.field], error.message) from error
        if paid.prepayment > 0 and (body.buyer is None or body.buyer.customer_ref() is None):
            raise _fail(["buyer"], "paying with a prepayment needs the buyer (TIN, phone or e-mail) who made it")
        request = PrintRequest(
            mode=SALE_MODE,
            cashier_id=cashier.number,
            cash_amount=paid.cash,
            card_amount=paid.non_cash,
            partial_amount=paid.compensation,
            prepayment_amount=paid.prepayment,
            partner_tin=body.buyer.tin if body.buyer is not None else None,
            items=tuple(self._print_item(line) for line in lines),
            emarks=tuple(code for line in lines for code in (line.emarks or [])),
        )
        return _SaleDraft(register, cashier, lines, total, vat, paid, change, currency, rate, new_offers, request)

    @staticmethod
    def _print_item(draft: _DraftLine) -> PrintItem:
        snapshot = draft.choice.snapshot
        title = OfferTitle.from_json(snapshot["title"])
        good_code = snapshot["externalId"] or f"OV-{draft.choice.offer.id if draft.choice.offer else 0}"
        line = draft.line
        return PrintItem(
            adg_code=str(snapshot["classifierCode"]),
            dep=draft.department.dep,
            good_code=str(good_code)[:GOOD_TEXT_MAX],
            good_name=_good_name(title),
            quantity=draft.quantity,
            unit=SRC_UNIT_NAMES.get(draft.unit, draft.unit),
            price=draft.price,
            discount=line.base_value if line.base_type else None,
            discount_type=SRC_BASE_CODE[line.base_type] if line.base_type else None,
            additional_discount=line.additional_value if line.additional_type else None,
            additional_discount_type=SRC_ADDITIONAL_CODE[line.additional_type] if line.additional_type else None,
        )

    def create_sale(self, register_id: int, body: SaleCreate, document_key: str) -> dict[str, Any]:
        existing = self._existing(sales, document_key)
        if existing is not None:
            return self._resume_sale(existing)

        def prepare(conn: Connection) -> _SaleDraft:
            draft = self._draft_sale(conn, register_id, body)
            draft.url_id = documents.new_url_id()
            buyer = body.buyer
            draft.sale_id = conn.execute(
                insert(sales)
                .values(
                    **documents.pending_values(
                        register_id=register_id,
                        document_key=document_key,
                        cashier_id=draft.cashier.id,
                        receipt_request=buyer.receipt if buyer else None,
                        src_request=documents.print_request_json(draft.request),
                        url_id=draft.url_id,
                    ),
                    entity_id=draft.register.entity_id,
                    buyer=buyer.model_dump(mode="json", by_alias=True, exclude_none=True) if buyer else None,
                    buyer_tin=buyer.tin if buyer else None,
                    customer_ref=buyer.customer_ref() if buyer else None,
                    comment=body.comment,
                    currency=draft.currency,
                    exchange_rate=draft.rate,
                    total=draft.total,
                    vat=draft.vat,
                    cash=draft.paid.cash,
                    non_cash=draft.paid.non_cash,
                    prepayment=draft.paid.prepayment,
                    compensation=draft.paid.compensation,
                    change=draft.change,
                    offers_to_create=[
                        {
                            "externalId": s.external_id,
                            "type": s.type,
                            "classifierCode": s.classifier_code,
                            "unit": s.unit,
                            "departmentId": s.department_id,
                            "title": s.title.to_json(),
                        }
                        for s in draft.new_offers.values()
                    ],
                )
                .returning(sales.c.id)
            ).scalar_one()
            conn.execute(
                insert(sale_items),
                [
                    {
                        "sale_id": draft.sale_id,
                        "register_id": register_id,
                        "line_no": line.line_no,
                        "offer_id": line.choice.offer.id if line.choice.offer else None,
                        "offer": line.choice.snapshot,
                        "department_id": line.department.id,
                        "department": {
                            "dep": line.department.dep,
                            "taxRegime": line.department.tax_regime,
                            "title": line.department.title,
                        },
                        "quantity": line.quantity,
                        "price": line.price,
                        "foreign_price": line.foreign_price,
                        "unit": line.unit,
                        "discount": line.line.base_value if line.line.base_type else None,
                        "discount_type": line.line.base_type.value if line.line.base_type else None,
                        "additional_discount": line.line.additional_value if line.line.additional_type else None,
                        "additional_discount_type": line.line.additional_type.value
                        if line.line.additional_type
                        else None,
                        "total": line.total,
                        "vat": line.vat,
                        "emarks": line.emarks,
                    }
                    for line in draft.lines
                ],
            )
            if draft.paid.prepayment > 0:
                assert body.buyer is not None
                customer = body.buyer.customer_ref()
                assert customer is not None
                draft.holds = hold_prepayment(
                    conn,
                    draft.register.entity_id,
                    customer,
                    draft.sale_id,
                    draft.paid.prepayment,
                    ["amount", "prepayment"],
                )
            return draft

        return documents.register_pending(
            self.db,
            prepare=prepare,
            call=lambda draft: self.src.print_receipt(register_id, document_key, draft.request),
            complete=lambda conn, draft, receipt: self._complete_sale(conn, draft.sale_id, receipt),
            cancel=lambda conn, draft: self._drop_sale(conn, draft.sale_id),
        )

    def _existing(self, table: Any, document_key: str) -> Any:
        with self.db.read() as conn:
            return conn.execute(select(table).where(table.c.document_key == document_key)).first()

    def _resume_sale(self, row: Any) -> dict[str, Any]:
        if row.state == "completed":
            return self._sale_created(row)
        return documents.resume_pending(self.db, self.src, row, complete=self._complete_sale, drop=self._drop_sale)

    @staticmethod
    def _drop_sale(conn: Connection, sale_id: int) -> None:
        from openvcr.store.schema.sales import prepayment_usages

        conn.execute(delete(prepayment_usages).where(prepayment_usages.c.sale_id == sale_id))
        conn.execute(delete(sale_items).where(sale_items.c.sale_id == sale_id))
        conn.execute(delete(sales).where(sales.c.id == sale_id, sales.c.state == "pending"))

    def _complete_sale(self, conn: Connection, sale_id: int, receipt: Receipt) -> dict[str, Any]:
        row = conn.execute(select(sales).where(sales.c.id == sale_id)).one()
        if row.state == "completed":
            return self._sale_created(row)
        created: dict[str, int] = {}
        for spec in row.offers_to_create or []:
            existing = catalog_repo.find_offer(conn, row.register_id, external_id=spec["externalId"])
            offer = existing or create_offer_in(
                conn,
                row.register_id,
                OfferSpec(
                    type=spec["type"],
                    classifier_code=spec["classifierCode"],
                    title=OfferTitle.from_json(spec["title"]),
                    unit=spec["unit"],
                    department_id=int(spec["departmentId"]),
                    external_id=spec["externalId"],
                ),
            )
            created[spec["externalId"]] = offer.id
        items = conn.execute(
            select(sale_items).where(sale_items.c.sale_id == sale_id).order_by(sale_items.c.line_no)
        ).all()
        for item in items:
            if item.offer_id is None and item.offer.get("externalId") in created:
                conn.execute(
                    update(sale_items)
                    .where(sale_items.c.sale_id == sale_id, sale_items.c.line_no == item.line_no)
                    .values(offer_id=created[item.offer["externalId"]])
                )
        stored = documents.mark_completed(conn, sales, sale_id, receipt)
        body = {
            "sale": sale_id,
            "urlId": row.url_id,
            "cashier": row.cashier_id,
            "buyerTin": row.buyer_tin,
            "currency": row.currency,
            "exchangeRate": row.exchange_rate,
            "total": row.total,
            "vat": row.vat,
            "cash": row.cash,
            "nonCash": row.non_cash,
            "prepayment": row.prepayment,
            "compensation": row.compensation,
            "change": row.change,
            "items": [
                {
                    "srcId": i.line_no,
                    "classifierCode": i.offer["classifierCode"],
                    "dep": i.department["dep"],
                    "quantity": i.quantity,
                    "price": i.price,
                    "unit": i.unit,
                    "discount": i.discount,
                    "discountType": i.discount_type,
                    "additionalDiscount": i.additional_discount,
                    "additionalDiscountType": i.additional_discount_type,
                    "total": i.total,
                    "vat": i.vat,
                }
                for i in items
            ],
            "src": documents.src_summary(stored),
        }
        documents.journal_document(
            conn,
            row,
            receipt,
            doc_type="sale",
            body=body,
            delta=CountersDelta.sale(Decimal(row.total), Decimal(row.vat)),
            signer=self._signer(conn, row.register_id),
        )
        return {
            "url_id": row.url_id,
            "sale_id": sale_id,
            "crn": receipt.crn,
            "src_receipt_id": receipt.receipt_id,
            "fiscal": receipt.fiscal or "",
        }

    @staticmethod
    def _sale_created(row: Any) -> dict[str, Any]:
        return {
            "url_id": row.url_id,
            "sale_id": row.id,
            "crn": row.receipt["crn"],
            "src_receipt_id": int(row.receipt["srcId"]),
            "fiscal": row.receipt.get("fiscal") or "",
        }

    # ---- refunds -----------------------------------------------------------------------------------------

    def refund_sale(self, register_id: int, body: SaleRefundCreate, document_key: str) -> dict[str, Any]:
        existing = self._existing(sale_refunds, document_key)
        if existing is not None:
            return self._resume_refund(existing)
        return documents.register_pending(
            self.db,
            prepare=lambda conn: self._prepare_refund(conn, register_id, body, document_key),
            call=lambda p: self._call_refund(register_id, document_key, p),
            complete=lambda conn, p, receipt: self._complete_refund(conn, p["refund_id"], receipt),
            cancel=lambda conn, p: self._drop_refund(conn, p["refund_id"]),
        )

    def _call_refund(self, register_id: int, document_key: str, pending: dict[str, Any]) -> Receipt:
        request = pending["request"]
        assert isinstance(request, ReturnRequest)
        self.src.get_returned_receipt_info(register_id, request.receipt_id)
        return self.src.print_return_receipt(register_id, document_key, request)

    def _prepare_refund(
        self, conn: Connection, register_id: int, body: SaleRefundCreate, document_key: str
    ) -> dict[str, Any]:
        cashier = find_cashier(conn, register_id, body.cashier)
        sale = conn.execute(
            select(sales).where(
                sales.c.id == body.sale_id, sales.c.register_id == register_id, sales.c.state == "completed"
            )
        ).first()
        if sale is None:
            raise NotFound(f"sale {body.sale_id} not found")
        lines = {
            row.line_no: row
            for row in conn.execute(
                select(sale_items).where(sale_items.c.sale_id == sale.id).order_by(sale_items.c.line_no)
            )
        }
        if body.items:
            wanted: list[tuple[int, Decimal, list[str] | None]] = []
            seen: set[int] = set()
            for index, item in enumerate(body.items):
                if item.src_id not in lines:
                    raise _fail(["items", index, "srcId"], f"the sale has no line {item.src_id}")
                if item.src_id in seen:
                    raise _fail(["items", index, "srcId"], f"line {item.src_id} is listed twice")
                seen.add(item.src_id)
                wanted.append((item.src_id, item.quantity, item.emarks))
        else:
            wanted = [
                (no, Decimal(row.quantity) - Decimal(row.refunded_quantity), None)
                for no, row in lines.items()
                if Decimal(row.quantity) > Decimal(row.refunded_quantity)
            ]
            if not wanted:
                raise Conflict(f"sale {sale.id} is already fully refunded")
        refund_lines: list[dict[str, Any]] = []
        amount = ZERO
        vat = ZERO
        for no, qty, emarks in wanted:
            row = lines[no]
            try:
                value = line_refund(
                    Decimal(row.total),
                    Decimal(row.quantity),
                    Decimal(row.refunded_quantity),
                    Decimal(row.refunded_amount),
                    qty,
                )
            except ArithmeticRuleError as error:
                raise Conflict(f"line {no}: {error.message}") from error
            line_vat = vat_of(value, row.department["taxRegime"])
            refund_lines.append({"line_no": no, "quantity": qty, "amount": value, "vat": line_vat, "emarks": emarks})
            amount += value
            vat += line_vat
        everything = all(
            Decimal(row.quantity) - Decimal(row.refunded_quantity) == next((q for n, q, _ in wanted if n == no), ZERO)
            for no, row in lines.items()
        )
        paid = Tenders(
            cash=Decimal(sale.cash) - Decimal(sale.change),
            non_cash=Decimal(sale.non_cash),
            prepayment=Decimal(sale.prepayment),
            compensation=Decimal(sale.compensation),
        )
        if paid.compensation > 0 and not everything:
            raise Conflict("a sale paid partly by compensation can only be refunded in full")
        already = _refunded_tenders(conn, sale.id)
        split = split_refund(amount, paid, already, Decimal(sale.total), everything)
        returnable = returnable_prepayment(conn, sale.id)
        if split.prepayment > returnable:
            # SRC returns the prepayment part as prepayment; the advances it came from were refunded since, so
            # there is nothing left to give it back to: an operator must settle it with the customer.
            raise Conflict(
                f"{split.prepayment} of this refund would go back to prepayments that were refunded since; "
                f"at most {returnable} can be returned to the customer's prepayment balance"
            )
        if body.refund_amounts is not None:
            cash = body.refund_amounts.cash if body.refund_amounts.cash is not None else ZERO
            non_cash = body.refund_amounts.non_cash if body.refund_amounts.non_cash is not None else ZERO
            expected = amount - split.prepayment - split.compensation
            if cash + non_cash != expected:
                raise _fail(["refundAmounts"], f"cash and nonCash must add up to {expected} for the returned lines")
            left = paid.minus(already)
            if cash > left.cash:
                raise Conflict(f"at most {left.cash} can still be refunded in cash")
            if non_cash > left.non_cash:
                raise Conflict(f"at most {left.non_cash} can still be refunded as non-cash")
            split = Tenders(cash, non_cash, split.prepayment, split.compensation)
        receipt_request = body.receipt
        request = ReturnRequest(
            receipt_id=int(sale.receipt["srcId"]),
            card_amount=split.non_cash + split.compensation,
            cash_amount=split.cash,
            prepayment_amount=split.prepayment,
            items=tuple(ReturnLine(line["line_no"], line["quantity"]) for line in refund_lines),
            source_crn=None,
            emarks=tuple(code for line in refund_lines for code in (line["emarks"] or [])),
        )
        refund_id = conn.execute(
            insert(sale_refunds)
            .values(
                **documents.pending_values(
                    register_id=register_id,
                    document_key=document_key,
                    cashier_id=cashier.id,
                    receipt_request=receipt_request,
                    src_request=documents.return_request_json(request),
                ),
                sale_id=sale.id,
                reason=body.reason,
                reason_note=body.reason_note,
                total=amount,
                vat=vat,
                cash=split.cash,
                non_cash=split.non_cash,
                prepayment=split.prepayment,
                compensation=split.compensation,
            )
            .returning(sale_refunds.c.id)
        ).scalar_one()
        conn.execute(insert(sale_refund_items), [{"refund_id": refund_id, **line} for line in refund_lines])
        for line in refund_lines:  # reserve the quantities now: concurrent refunds cannot over-refund
            conn.execute(
                update(sale_items)
                .where(sale_items.c.sale_id == sale.id, sale_items.c.line_no == line["line_no"])
                .values(
                    refunded_quantity=sale_items.c.refunded_quantity + line["quantity"],
                    refunded_amount=sale_items.c.refunded_amount + line["amount"],
                )
            )
        return {"refund_id": refund_id, "request": request}

    @staticmethod
    def _drop_refund(conn: Connection, refund_id: int) -> None:
        refund = conn.execute(select(sale_refunds).where(sale_refunds.c.id == refund_id)).first()
        if refund is None or refund.state != "pending":
            return
        for line in conn.execute(select(sale_refund_items).where(sale_refund_items.c.refund_id == refund_id)):
            conn.execute(
                update(sale_items)
                .where(sale_items.c.sale_id == refund.sale_id, sale_items.c.line_no == line.line_no)
                .values(
                    refunded_quantity=sale_items.c.refunded_quantity - line.quantity,
                    refunded_amount=sale_items.c.refunded_amount - line.amount,
                )
            )
        conn.execute(delete(sale_refund_items).where(sale_refund_items.c.refund_id == refund_id))
        conn.execute(delete(sale_refunds).where(sale_refunds.c.id == refund_id))

    def _resume_refund(self, row: Any) -> dict[str, Any]:
        if row.state == "completed":
            return documents.created("sale_refund_id", row.url_id, row.id, row.receipt)
        return documents.resume_pending(self.db, self.src, row, complete=self._complete_refund, drop=self._drop_refund)

    def _complete_refund(self, conn: Connection, refund_id: int, receipt: Receipt) -> dict[str, Any]:
        row = conn.execute(select(sale_refunds).where(sale_refunds.c.id == refund_id)).one()
        if row.state == "completed":
            return documents.created("sale_refund_id", row.url_id, row.id, row.receipt)
        stored = documents.mark_completed(conn, sale_refunds, refund_id, receipt)
        sale = conn.execute(select(sales).where(sales.c.id == row.sale_id)).one()
        if Decimal(row.prepayment) > 0:
            return_prepayment(conn, sale.id, refund_id, Decimal(row.prepayment))
        lines = conn.execute(
            select(sale_refund_items)
            .where(sale_refund_items.c.refund_id == refund_id)
            .order_by(sale_refund_items.c.line_no)
        ).all()
        body = {
            "refund": refund_id,
            "sale": row.sale_id,
            "urlId": row.url_id,
            "cashier": row.cashier_id,
            "reason": row.reason,
            "total": row.total,
            "vat": row.vat,
            "cash": row.cash,
            "nonCash": row.non_cash,
            "prepayment": row.prepayment,
            "compensation": row.compensation,
            "items": [{"srcId": i.line_no, "quantity": i.quantity, "amount": i.amount, "vat": i.vat} for i in lines],
            "src": documents.src_summary(stored),
        }
        documents.journal_document(
            conn,
            row,
            receipt,
            doc_type="sale_refund",
            body=body,
            delta=CountersDelta.sale_refund(Decimal(row.total), Decimal(row.vat)),
            signer=self._signer(conn, row.register_id),
        )
        return documents.created("sale_refund_id", row.url_id, refund_id, stored)

    def document_kinds(self) -> list[DocumentKind]:
        """How ``sales.recovery`` finishes or drops this service's pending documents."""
        return [
            DocumentKind("sale", sales, self._complete_sale, self._drop_sale),
            DocumentKind("sale_refund", sale_refunds, self._complete_refund, self._drop_refund),
        ]

    # ---- reads -------------------------------------------------------------------------------------------

    def sale_detail(self, register_id: int, sale_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            sale = conn.execute(
                select(sales).where(
                    sales.c.id == sale_id, sales.c.register_id == register_id, sales.c.state == "completed"
                )
            ).first()
            if sale is None:
                raise NotFound(f"sale {sale_id} not found")
            items = conn.execute(
                select(sale_items).where(sale_items.c.sale_id == sale_id).order_by(sale_items.c.line_no)
            ).all()
            refunds = conn.execute(
                select(sale_refunds)
                .where(sale_refunds.c.sale_id == sale_id, sale_refunds.c.state == "completed")
                .order_by(sale_refunds.c.id)
            ).all()
            refund_items = {
                r.id: conn.execute(
                    select(sale_refund_items)
                    .where(sale_refund_items.c.refund_id == r.id)
                    .order_by(sale_refund_items.c.line_no)
                ).all()
                for r in refunds
            }
            cashier = catalog_repo.find_cashier(conn, register_id, cashier_id=sale.cashier_id)
        assert cashier is not None
        return {
            "sale": sale,
            "items": items,
            "refunds": [(r, refund_items[r.id]) for r in refunds],
            "cashier": cashier,
        }


def _refunded_tenders(conn: Connection, sale_id: int) -> Tenders:
    """What the sale's refunds (completed and pending) gave back, per tender."""
    row = conn.execute(
        select(
            func.coalesce(func.sum(sale_refunds.c.cash), 0),
            func.coalesce(func.sum(sale_refunds.c.non_cash), 0),
            func.coalesce(func.sum(sale_refunds.c.prepayment), 0),
            func.coalesce(func.sum(sale_refunds.c.compensation), 0),
        ).where(sale_refunds.c.sale_id == sale_id)
    ).one()
    return Tenders(*(Decimal(str(v)).quantize(Decimal("0.01")) for v in row))
