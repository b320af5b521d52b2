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
- Each sale and refund is a document of ``openvcr.documents`` (kinds in ``sales.documents``): this service
  only drafts it; the engine registers it with SRC, completes, journals, drops or defers it.
- The SQL is in ``sales.repository``; reads hand the edge ``sales.models`` views (``SaleView``,
  ``SaleRefundView``), never rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import Connection

from openvcr.authority.gateway import PrintItem, PrintRequest, ReturnLine, ReturnRequest
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import Cashier, Department, Offer, OfferTitle
from openvcr.catalog.service import OfferSpec, find_cashier, offer_title
from openvcr.core.errors import Conflict, Issue, NotFound, ValidationFailed, excerpt
from openvcr.core.limits import LimitExceeded
from openvcr.core.money import CENT, ZERO, round_money
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
from openvcr.documents.engine import DocumentEngine, Prepared
from openvcr.documents.models import DocumentState, Draft, Outcome, ReceiptRequest, RequestKey
from openvcr.prepayments.ledger import hold_prepayment, returnable_prepayment
from openvcr.registers.models import Register
from openvcr.registers.repository import get_register
from openvcr.sales import repository as repo
from openvcr.sales.documents import SALE, SALE_REFUND
from openvcr.sales.models import DepartmentSnapshot, OfferSnapshot, SaleLine, SaleRefundLine, SaleRefundView, SaleView
from openvcr.sales.rates import rate_for_sale
from openvcr.sales.schemas import OfferRef, SaleCreate, SaleRefundCreate
from openvcr.sales.units import SRC_UNIT_NAMES

SALE_MODE = 2
GOOD_TEXT_MAX = 50


def _fail(path: Sequence[str | int], message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, [Issue(tuple(path), message, code)])


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
    def snapshot(self) -> OfferSnapshot:
        if self.offer is not None:
            return OfferSnapshot(self.offer.type, self.offer.classifier_code, self.offer.external_id, self.offer.title)
        assert self.spec is not None
        return OfferSnapshot(self.spec.type, self.spec.classifier_code, self.spec.external_id, self.spec.title)

    @property
    def default_department_id(self) -> int:
        if self.offer is not None:
            return self.offer.default_department_id
        assert self.spec is not None
        return self.spec.department_id


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
            raise _fail([*path, "externalId"], f"no offer with externalId {excerpt(ref.external_id)}")
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


def _default_department(conn: Connection, register_id: int, choice: _OfferChoice, path: list[str | int]) -> Department:
    """The department of a line that names none: its offer's ``defaultDepartment``."""
    department = catalog_repo.find_department(conn, register_id, choice.default_department_id)
    if department is None or not department.confirmed:
        message = f"the offer's default department {choice.default_department_id} does not exist: give a department"
        raise _fail(path, message)
    return department


def _fine_price_line(item: Any, price: Decimal, path: list[str | int]) -> Line:
    """A unit price with more than 2 decimals (a shop's line total ÷ quantity), as SRC can register it.

    The buyer pays ``price × quantity`` rounded half-up to the cent. SRC takes prices in cents, so the line is
    sent with the price rounded *up* to the cent and, when that makes the line dearer, a discount on the line
    total (SRC type 4) of the difference: SRC's own arithmetic (``round(price × quantity) − discount``) then
    gives exactly the amount the buyer pays. Such a line cannot carry discounts of its own."""
    if item.discounts is not None and (item.discounts.base is not None or item.discounts.additional is not None):
        raise _fail(
            [*path, "discounts"],
            "a unit price with more than 2 decimals cannot carry discounts: give the discounted unit price",
        )
    pays = round_money(price * item.quantity)
    ceiling = price.quantize(CENT, rounding=ROUND_CEILING)
    difference = round_money(ceiling * item.quantity) - pays
    if difference == 0:
        return Line(quantity=item.quantity, price=ceiling)
    return Line(quantity=item.quantity, price=ceiling, base_type=BaseDiscount.TOTAL, base_value=difference)


def _line_of(item: Any, price: Decimal, path: list[str | int]) -> Line:
    if price != price.quantize(CENT):
        return _fine_price_line(item, price, path)
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
    def __init__(self, engine: DocumentEngine) -> None:
        self.engine = engine
        self.db = engine.db

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
            choice = _resolve_offer(conn, register_id, item.offer, [*path, "offer"], new_offers)
            if item.department is not None:  # an explicit department wins over the offer's default
                department = _department(conn, register_id, item.department.id, [*path, "department", "id"])
            else:
                department = _default_department(conn, register_id, choice, [*path, "department"])
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
                    max_age = self.engine.settings.rates_max_age_days
                    rate = rate_for_sale(conn, code, [*path, "currency"], max_age)
                assert rate is not None
                if price != price.quantize(CENT):
                    raise _fail([*path, "price"], "a unit price in a foreign currency has at most 2 decimals")
                foreign_price = price
                price = round_money(price * rate)
            try:
                register.limits.check_line(item.quantity, price)
            except LimitExceeded as error:
                raise _fail([*path, error.field], error.message, "limit_exceeded") from error
            if item.emarks is not None and Decimal(len(item.emarks)) != item.quantity:
                raise _fail([*path, "emarks"], "give one eMark code per unit: their count must equal the quantity")
            line = _line_of(item, price, path)
            price = line.price  # a finer unit price is registered as its cent ceiling with a line discount
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
        try:
            register.limits.check_total(total)
        except LimitExceeded as error:
            raise _fail([error.field], error.message, "limit_exceeded") from error
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
        try:
            register.limits.check_change(total, change)
        except LimitExceeded as error:
            raise _fail(error.field.split("."), error.message, "limit_exceeded") from error
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
        good_code = snapshot.external_id or f"OV-{draft.choice.offer.id if draft.choice.offer else 0}"
        line = draft.line
        return PrintItem(
            adg_code=snapshot.classifier_code,
            dep=draft.department.dep,
            good_code=good_code[:GOOD_TEXT_MAX],
            good_name=_good_name(snapshot.title),
            quantity=draft.quantity,
            unit=SRC_UNIT_NAMES.get(draft.unit, draft.unit),
            price=draft.price,
            discount=line.base_value if line.base_type else None,
            discount_type=SRC_BASE_CODE[line.base_type] if line.base_type else None,
            additional_discount=line.additional_value if line.additional_type else None,
            additional_discount_type=SRC_ADDITIONAL_CODE[line.additional_type] if line.additional_type else None,
        )

    def create_sale(self, register_id: int, body: SaleCreate, key: RequestKey) -> Outcome:
        # Validation and arithmetic read only: on a snapshot, outside the group writer.
        return self.engine.run(register_id, SALE, key, Prepared(lambda conn: self._sale_draft(conn, register_id, body)))

    def _sale_draft(self, conn: Connection, register_id: int, body: SaleCreate) -> Draft:
        draft = self._draft_sale(conn, register_id, body)
        buyer = body.buyer

        def attach(conn: Connection, document_id: int) -> int:
            sale_id = repo.insert_sale(
                conn,
                document_id=document_id,
                register_id=register_id,
                entity_id=draft.register.entity_id,
                buyer=buyer.model_dump(mode="json", by_alias=True, exclude_none=True) if buyer else None,
                buyer_tin=buyer.tin if buyer else None,
                customer_ref=buyer.customer_ref() if buyer else None,
                comment=body.comment,
                currency=draft.currency,
                exchange_rate=draft.rate,
                total=draft.total,
                vat=draft.vat,
                paid=draft.paid,
                change=draft.change,
                offers_to_create=list(draft.new_offers.values()),
                lines=[_sale_line(line) for line in draft.lines],
            )
            if draft.paid.prepayment > 0:
                assert buyer is not None
                customer = buyer.customer_ref()
                assert customer is not None
                hold_prepayment(
                    conn, draft.register.entity_id, customer, sale_id, draft.paid.prepayment, ["amount", "prepayment"]
                )
            return sale_id

        phone = buyer.phone if buyer is not None and draft.register.sms_receipts else None
        receipt = ReceiptRequest.of(buyer.receipt if buyer else None)
        return Draft(draft.cashier.id, draft.request, attach, receipt, sms_phone=phone)

    # ---- refunds -----------------------------------------------------------------------------------------

    def refund_sale(self, register_id: int, body: SaleRefundCreate, key: RequestKey) -> Outcome:
        return self.engine.run(register_id, SALE_REFUND, key, lambda conn: self._refund_draft(conn, register_id, body))

    def _refund_draft(self, conn: Connection, register_id: int, body: SaleRefundCreate) -> Draft:
        cashier = find_cashier(conn, register_id, body.cashier)
        # The sale's row is locked (PostgreSQL; SQLite serializes writers) until the refund's quantities are
        # reserved, so two concurrent refunds of one sale never both pass the quantity check.
        found = repo.find_sale(conn, register_id, body.sale_id, lock=True)
        if found is None:
            raise NotFound(f"sale {body.sale_id} not found")
        sale = found.sale
        if found.state != DocumentState.COMPLETED:
            raise Conflict(f"sale {sale.id} is {found.state}, not fiscalized: it cannot be refunded")
        lines = {line.line_no: line for line in repo.sale_lines(conn, sale.id)}
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
                (no, line.refundable_quantity, None) for no, line in lines.items() if line.refundable_quantity > 0
            ]
            if not wanted:
                raise Conflict(f"sale {sale.id} is already fully refunded")
        refund_lines: list[SaleRefundLine] = []
        amount = ZERO
        vat = ZERO
        for no, qty, emarks in wanted:
            line = lines[no]
            try:
                value = line_refund(line.total, line.quantity, line.refunded_quantity, line.refunded_amount, qty)
            except ArithmeticRuleError as error:
                raise Conflict(f"line {no}: {error.message}") from error
            line_vat = vat_of(value, line.department.tax_regime)
            refund_lines.append(SaleRefundLine(no, qty, value, line_vat, None if emarks is None else tuple(emarks)))
            amount += value
            vat += line_vat
        everything = all(
            line.refundable_quantity == next((q for n, q, _ in wanted if n == no), ZERO) for no, line in lines.items()
        )
        paid = Tenders(
            cash=sale.cash - sale.change,
            non_cash=sale.non_cash,
            prepayment=sale.prepayment,
            compensation=sale.compensation,
        )
        if paid.compensation > 0 and not everything:
            raise Conflict("a sale paid partly by compensation can only be refunded in full")
        already = repo.refunded_tenders(conn, sale.id)
        split = split_refund(amount, paid, already, sale.total, everything)
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
        assert found.receipt is not None
        request = ReturnRequest(
            receipt_id=int(found.receipt["srcId"]),
            card_amount=split.non_cash + split.compensation,
            cash_amount=split.cash,
            prepayment_amount=split.prepayment,
            items=tuple(ReturnLine(line.line_no, line.quantity) for line in refund_lines),
            source_crn=None,
            emarks=tuple(code for line in refund_lines for code in (line.emarks or ())),
        )

        def attach(conn: Connection, document_id: int) -> int:
            refund_id = repo.insert_refund(
                conn,
                document_id=document_id,
                register_id=register_id,
                sale_id=sale.id,
                reason=body.reason,
                reason_note=body.reason_note,
                total=amount,
                vat=vat,
                split=split,
                lines=refund_lines,
            )
            repo.reserve_refund(conn, sale.id, refund_lines)  # now: concurrent refunds cannot over-refund
            return refund_id

        phone = found.receipt_phone if found.receipt_phone and get_register(conn, register_id).sms_receipts else None
        return Draft(cashier.id, request, attach, ReceiptRequest.of(body.receipt), sms_phone=phone)

    # ---- reads -------------------------------------------------------------------------------------------

    def sale_detail(self, register_id: int, sale_id: int) -> SaleView:
        """One sale of the register with its state, receipt, lines, completed refunds and cashier (any state)."""
        with self.db.read() as conn:
            found = repo.find_sale(conn, register_id, sale_id)
            if found is None:
                raise NotFound(f"sale {sale_id} not found")
            lines = repo.sale_lines(conn, sale_id)
            refunds = repo.completed_refunds(conn, sale_id)
            cashier = catalog_repo.find_cashier(conn, register_id, cashier_id=found.cashier_id)
        assert cashier is not None
        return SaleView(
            sale=found.sale,
            state=found.state,
            created_at=found.created_at,
            receipt=found.receipt,
            lines=tuple(lines),
            refunds=tuple(refunds),
            cashier=cashier,
            url_id=found.url_id,
            receipt_language=found.receipt_language,
        )

    def refund_detail(self, register_id: int, refund_id: int) -> SaleRefundView:
        """One sale refund of the register with its document's state and receipt (any state)."""
        with self.db.read() as conn:
            refund = repo.find_refund(conn, register_id, refund_id)
        if refund is None:
            raise NotFound(f"sale refund {refund_id} not found")
        return refund


def _sale_line(line: _DraftLine) -> SaleLine:
    """The stored line of a drafted one (with snapshots of its offer and department as sold)."""
    department = line.department
    return SaleLine(
        line_no=line.line_no,
        offer_id=line.choice.offer.id if line.choice.offer else None,
        offer=line.choice.snapshot,
        department_id=department.id,
        department=DepartmentSnapshot(department.dep, department.tax_regime, department.title),
        quantity=line.quantity,
        price=line.price,
        foreign_price=line.foreign_price,
        unit=line.unit,
        discount=line.line.base_value if line.line.base_type else None,
        discount_type=line.line.base_type.value if line.line.base_type else None,
        additional_discount=line.line.additional_value if line.line.additional_type else None,
        additional_discount_type=line.line.additional_type.value if line.line.additional_type else None,
        total=line.total,
        vat=line.vat,
        emarks=None if line.emarks is None else tuple(line.emarks),
    )
