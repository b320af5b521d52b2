"""The VCR API v1 shapes as pydantic models: Python names in code, the contract's camelCase on the wire.

Rules:
- Money and quantities are ``Decimal``. A request refuses ``float`` (pass ``Decimal``, ``int`` or a decimal
  string) and sends decimal strings in plain notation (``"1500"``, ``"333.33333333"``); a response is parsed
  from its bytes with ``json.loads(..., parse_float=Decimal)``, so a JSON number never passes through a float.
- Requests refuse unknown fields (a typo fails at once); responses ignore them (the API may add fields).
- Responses are frozen; timestamps are aware ``datetime`` (UTC), dates ``date``; ``receipt.time`` stays the
  contract's string of epoch milliseconds (``Receipt.issued_at`` reads it as a ``datetime``).
- ``None`` request fields are left out of the body, so the server applies its defaults.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator
from pydantic.alias_generators import to_camel

Language = Literal["hy", "ru", "en"]
"""A receipt or text language."""

TextLanguage = Literal["hy", "ru", "en", "multi"]
"""The language of a text in a response (``multi``: one text shared by every language)."""

Unit = Literal[
    "pc", "unit", "set", "box", "pack", "case", "hr", "sess", "proj", "sub", "kg", "l", "m", "g", "ml", "cm",
    "bottle", "can", "jar", "bag", "m2", "dozen", "pair", "mm", "roll", "tube", "km", "ton", "m3", "pallet",
    "other",
]  # fmt: skip
TaxRegime = Literal["vat", "vat_exempt", "turnover_tax", "micro_enterprise"]
OfferType = Literal["product", "service"]
LocalizationStrategy = Literal["translation", "transliteration"]
RefundReason = Literal[
    "customer_request", "defective_goods", "wrong_goods", "cashier_error", "duplicate_receipt", "other"
]
FiscalStatus = Literal["pending", "sent", "completed", "in_doubt", "deferred", "dropped"]
PrepaymentState = Literal["open", "consumed", "refunded"]
PrepaymentStateFilter = Literal["open", "consumed", "refunded", "all"]
DocumentType = Literal["sale", "saleRefund", "prepayment", "prepaymentRefund"]
ReportType = Literal["x", "z"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError("money and quantities are Decimal, int or a decimal string, never float")
    try:
        result = value if isinstance(value, Decimal) else Decimal(value if isinstance(value, int) else str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError("a decimal must be finite")
    return result


def _plain(value: Decimal) -> str:
    """A decimal as the contract's request text: plain notation, never an exponent."""
    return format(value, "f")


DecimalIn = Annotated[Decimal, BeforeValidator(_decimal), PlainSerializer(_plain, return_type=str)]
"""Money or a quantity in a request: sent as a decimal string."""


class _Request(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body as the contract spells it (``None`` fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _Response(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )


# --- requests: shared pieces ---


class LocalizedText(_Request):
    """``{"hy": ..., "ru"?: ..., "en"?: ...}``: ``hy`` is required; the server fills a missing ``ru``/``en``."""

    hy: str
    ru: str | None = None
    en: str | None = None


class LocalizedName(_Request):
    """A name or title: ``{"value": {...}, "localizationStrategy": ...}``."""

    value: LocalizedText
    localization_strategy: LocalizationStrategy = "transliteration"


class LocalizedTitle(_Request):
    """An offer title in every language: ``{"type": "localized", "content": {...}, "localizationStrategy"}``."""

    type: Literal["localized"] = "localized"
    content: LocalizedText
    localization_strategy: LocalizationStrategy = "transliteration"


class UniversalTitle(_Request):
    """An offer title shared by every language (a brand): ``{"type": "universal", "content": "Coca-Cola"}``."""

    type: Literal["universal"] = "universal"
    content: str


OfferTitle = Annotated[LocalizedTitle | UniversalTitle, Field(discriminator="type")]


class CashierRef(_Request):
    """A cashier: exactly one of ``id`` (its ``internalId``) or ``desk_id``."""

    id: int | None = None
    desk_id: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CashierRef:
        if (self.id is None) == (self.desk_id is None):
            raise ValueError("a cashier is referenced by exactly one of id or desk_id")
        return self


class DepartmentRef(_Request):
    """``{"id": <internalId>}``."""

    id: int


class ReceiptEmail(_Request):
    """Ask for the receipt to be e-mailed in ``language``."""

    email: str
    language: Language = "hy"


class Buyer(_Request):
    """The buyer: an ``individual`` (optionally ``email``/``phone``) or a ``business_entity`` with its ``tin``."""

    type: Literal["individual", "business_entity"] = "individual"
    tin: str | None = None
    email: str | None = None
    phone: str | None = None
    receipt: ReceiptEmail | None = None


# --- requests: catalog ---


class CashierCreate(_Request):
    name: LocalizedName
    password: str
    """A PIN of 4 to 8 digits; stored hashed, never returned."""


class DepartmentCreate(_Request):
    tax_regime: TaxRegime
    title: LocalizedName
    external_id: str | None = None


class OfferCreate(_Request):
    type: OfferType
    classifier_code: str
    title: OfferTitle
    default_measure_unit: Unit
    default_department: DepartmentRef
    external_id: str | None = None


# --- requests: sales ---


class OfferRef(_Request):
    """An existing offer: exactly one of ``id`` or ``external_id``."""

    id: int | None = None
    external_id: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> OfferRef:
        if (self.id is None) == (self.external_id is None):
            raise ValueError("an offer is referenced by exactly one of id or external_id")
        return self


class NewOffer(_Request):
    """A whole new offer inside a sale line: created with the sale, or reused when ``external_id`` exists."""

    type: OfferType
    classifier_code: str
    title: OfferTitle
    default_measure_unit: Unit
    default_department: DepartmentRef
    external_id: str


class BaseDiscount(_Request):
    """``percent`` of the line, ``price`` off each unit, or ``total`` off the line."""

    type: Literal["percent", "price", "total"]
    value: DecimalIn


class AdditionalDiscount(_Request):
    """Applied after the base discount: ``percent`` or ``total``."""

    type: Literal["percent", "total"]
    value: DecimalIn


class Discounts(_Request):
    base: BaseDiscount | None = None
    additional: AdditionalDiscount | None = None


class SaleItem(_Request):
    """One line. ``department`` left out means the offer's default department."""

    offer: OfferRef | NewOffer
    quantity: DecimalIn
    price: DecimalIn
    unit: Unit
    department: DepartmentRef | None = None
    currency: str | None = None
    discounts: Discounts | None = None
    total_amount_tolerance: DecimalIn | None = None
    emarks: list[str] | None = None


class Amount(_Request):
    """What the buyer pays, per tender (at least one)."""

    cash: DecimalIn | None = None
    non_cash: DecimalIn | None = None
    prepayment: DecimalIn | None = None
    compensation: DecimalIn | None = None


class AutoSettle(_Request):
    """Let the server compute the total and charge it to one tender."""

    tender: Literal["cash", "nonCash"]


class SaleCreate(_Request):
    """``POST /sales``: exactly one of ``amount`` or ``auto_settle``."""

    cashier: CashierRef
    items: list[SaleItem]
    amount: Amount | None = None
    auto_settle: AutoSettle | None = None
    buyer: Buyer | None = None
    comment: str | None = None

    @model_validator(mode="after")
    def _one_payment(self) -> SaleCreate:
        if (self.amount is None) == (self.auto_settle is None):
            raise ValueError("give exactly one of amount or auto_settle")
        return self


class RefundItem(_Request):
    """Return ``quantity`` of the sale line ``src_id`` (``SaleLine.src_id``)."""

    src_id: int
    quantity: DecimalIn
    emarks: list[str] | None = None


class RefundAmounts(_Request):
    cash: DecimalIn | None = None
    non_cash: DecimalIn | None = None


class SaleRefundCreate(_Request):
    """``POST /sales/refund``: without ``items``, everything still refundable."""

    cashier: CashierRef
    sale_id: int
    receipt: ReceiptEmail | None = None
    reason: RefundReason | None = None
    reason_note: str | None = None
    refund_amounts: RefundAmounts | None = None
    items: list[RefundItem] | None = None


# --- requests: prepayments ---


class PrepaymentAmount(_Request):
    cash: DecimalIn | None = None
    non_cash: DecimalIn | None = None


class PrepaymentCreate(_Request):
    cashier: CashierRef
    amount: PrepaymentAmount
    buyer: Buyer


class PrepaymentRefundCreate(_Request):
    """``POST /prepayments/refund``: always the whole remaining amount."""

    cashier: CashierRef
    prepayment_id: int
    receipt: ReceiptEmail | None = None
    reason: RefundReason | None = None
    reason_note: str | None = None


# --- responses: shared pieces ---


class TextEntry(_Response):
    """One entry of an entry list: ``{"id", "language", "content"}``."""

    id: int
    language: TextLanguage
    content: str


class KeyedText(_Response):
    """One value of a language-keyed record: ``{"language", "content"}``."""

    language: TextLanguage
    content: str


class KeyedTextWithId(KeyedText):
    id: int


class Receipt(_Response):
    src_id: int
    time: str
    """Epoch milliseconds as a string of digits, as the contract has it."""
    tin: str
    fiscal: str | None
    sn: str
    address: str | None
    total: Decimal
    taxpayer: str
    change: Decimal

    @property
    def issued_at(self) -> datetime:
        """``time`` as an aware UTC ``datetime``."""
        return _EPOCH + timedelta(milliseconds=int(self.time))


class CashierBrief(_Response):
    internal_id: int
    desk_id: str
    name: list[TextEntry]


# --- responses: account and catalog ---


class BusinessEntity(_Response):
    tin: str
    name: str


class WhoAmI(_Response):
    vcr_id: int
    crn: str | None
    mode: Literal["production", "sandbox"]
    trading_platform_name: str
    business_entity: BusinessEntity


class Cashier(_Response):
    desk_id: str
    internal_id: int
    name: dict[str, KeyedText]


class CashierCreated(_Response):
    id: int
    desk_id: str


class Department(_Response):
    internal_id: int
    external_id: str | None
    tax_regime: TaxRegime
    title: dict[str, KeyedTextWithId]


class DepartmentCreated(_Response):
    message: str
    department: int
    """The new department's ``internalId``."""


class DepartmentId(_Response):
    internal_id: int


class Offer(_Response):
    id: int
    external_id: str | None
    type: OfferType
    classifier_code: str
    default_measure_unit: str
    default_department: DepartmentId
    title: list[TextEntry]
    archived_at: datetime | None
    created_at: datetime


class OfferCreated(_Response):
    offer_id: int


class ClassifierHit(_Response):
    code: str
    title: str | None = None


class ExchangeRate(_Response):
    currency: str
    rate_per_unit: Decimal
    """AMD per ``amount`` units of ``currency``."""
    amount: int
    rate_date: date
    sale_date: date
    rule_version: str
    source: str


# --- responses: fiscal documents ---


class SaleCreated(_Response):
    url_id: str
    sale_id: int
    crn: str
    src_receipt_id: int
    fiscal: str
    receipt_url: str | None = None


class SaleRefundCreated(_Response):
    url_id: str
    sale_refund_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
    receipt_url: str | None = None


class PrepaymentCreated(_Response):
    url_id: str
    prepayment_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
    receipt_url: str | None = None


class PrepaymentRefundCreated(_Response):
    url_id: str
    prepayment_refund_id: int
    crn: str | None
    receipt_id: int
    fiscal: str | None
    receipt_url: str | None = None


class RefundedQuantity(_Response):
    quantity: Decimal


class SaleRefundSummary(_Response):
    """A refund as its sale shows it."""

    non_cash_amount: Decimal
    cash_amount: Decimal
    receipt: Receipt | None
    items: list[RefundedQuantity]


class DepartmentBrief(_Response):
    internal_id: int
    tax_regime: TaxRegime
    title: list[TextEntry]


class OfferBrief(_Response):
    type: OfferType
    classifier_code: str
    title: list[TextEntry]


class SaleLine(_Response):
    src_id: int
    """The SRC line id (0-based): what ``RefundItem.src_id`` refers to."""
    quantity: Decimal
    price: Decimal
    unit: str
    discount: Decimal | None
    discount_type: Literal["percent", "price", "total"] | None
    additional_discount: Decimal | None
    additional_discount_type: Literal["percent", "total"] | None
    department: DepartmentBrief
    offer: OfferBrief


class SaleDetail(_Response):
    """``GET /sales/{id}``. ``fiscal_status`` is an OpenVCR addition (``None`` from a server without it)."""

    id: int
    created_at: datetime
    buyer_tin: str | None
    comment: str | None
    cash_amount: Decimal
    non_cash_amount: Decimal
    prepayment_amount: Decimal
    compensation_amount: Decimal
    receipt: Receipt | None
    refunds: list[SaleRefundSummary]
    cashier: CashierBrief
    items: list[SaleLine]
    fiscal_status: FiscalStatus | None = None


class SaleRefundStatus(_Response):
    """``GET /sales/refunds/{id}`` (the ``statusUrl`` of a pending sale refund)."""

    id: int
    sale_id: int
    fiscal_status: FiscalStatus
    cash_amount: Decimal
    non_cash_amount: Decimal
    receipt: Receipt | None


class PrepaymentRefundSummary(_Response):
    non_cash_amount: Decimal
    cash_amount: Decimal
    receipt: Receipt | None


class PrepaymentDetail(_Response):
    """``GET /prepayments/{id}``."""

    id: int
    created_at: datetime
    buyer_tin: str | None
    cash_amount: Decimal
    non_cash_amount: Decimal
    receipt: Receipt | None
    refund: PrepaymentRefundSummary | None
    cashier: CashierBrief
    remaining: Decimal
    state: PrepaymentState
    fiscal_status: FiscalStatus | None = None


class PrepaymentRow(_Response):
    """One row of ``GET /prepayments``."""

    id: int
    created_at: datetime
    buyer_tin: str | None
    cash_amount: Decimal
    non_cash_amount: Decimal
    remaining: Decimal
    state: PrepaymentState


class OpenPrepayment(_Response):
    prepayment_id: int
    created_at: datetime
    cash_amount: Decimal
    non_cash_amount: Decimal
    buyer_tin: str | None
    remaining: Decimal


class PrepaymentBalance(_Response):
    """``GET /prepayments/balance``: ``open_prepayments`` oldest first (the order sales draw on them)."""

    entity_id: int
    customer_ref: str
    balance: Decimal
    open_prepayments: list[OpenPrepayment]


class PrepaymentRefundStatus(_Response):
    """``GET /prepayments/refunds/{id}`` (the ``statusUrl`` of a pending prepayment refund)."""

    id: int
    prepayment_id: int
    fiscal_status: FiscalStatus
    cash_amount: Decimal
    non_cash_amount: Decimal
    receipt: Receipt | None


# --- webhooks ---

WebhookEventType = Literal[
    "sale.completed",
    "saleRefund.completed",
    "prepayment.completed",
    "prepaymentRefund.completed",
    "document.deferred",
    "document.fiscalized",
    "document.dropped",
    "receiptEmail.delivered",
    "receiptEmail.failed",
    "report.z",
    "certificate.expiring",
]


class WebhookCreate(_Request):
    url: str
    """An ``http://`` or ``https://`` URL the events are POSTed to."""
    events: list[WebhookEventType]


class WebhookCreated(_Response):
    """A new endpoint; ``secret`` (verify deliveries with ``verify_webhook``) is shown this once."""

    id: int
    secret: str
    url: str
    events: list[str]


class Webhook(_Response):
    id: int
    url: str
    events: list[str]
    status: Literal["active", "disabled", "deleted"]
    """``disabled``: the receiver answered 410 Gone; nothing more is delivered to it."""
    status_reason: str | None = None
    created_at: str


class WebhookDelivery(_Response):
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None = None
    created_at: str
    delivered_at: str | None = None


class WebhookEvent(_Response):
    """A delivered event, as ``verify_webhook`` returns it: ``id`` is the same on every retry (deduplicate on
    it); ``data`` holds the document's fields (money as ``Decimal``)."""

    id: str
    type: str
    created_at: str
    data: dict[str, Any]


# --- shift reports and the cursor lists ---


class ReportCreate(_Request):
    """``POST /reports/x`` and ``/reports/z``: the cashier who takes the report (optional)."""

    cashier: CashierRef | None = None


class KindTotal(_Response):
    count: int
    total: Decimal


class DocumentTotals(_Response):
    sale: KindTotal
    sale_refund: KindTotal
    prepayment: KindTotal
    prepayment_refund: KindTotal


class SaleTenders(_Response):
    cash: Decimal
    non_cash: Decimal
    prepayment: Decimal
    compensation: Decimal
    change: Decimal


class RefundTenders(_Response):
    cash: Decimal
    non_cash: Decimal
    prepayment: Decimal
    compensation: Decimal


class PrepaymentTenders(_Response):
    cash: Decimal
    non_cash: Decimal


class Tenders(_Response):
    sale: SaleTenders
    sale_refund: RefundTenders
    prepayment: PrepaymentTenders
    prepayment_refund: PrepaymentTenders


class RegimeTotals(_Response):
    sales: Decimal
    sales_vat: Decimal
    refunds: Decimal
    refunds_vat: Decimal


class VatTotals(_Response):
    sales: Decimal
    refunds: Decimal


class RefundTotals(_Response):
    count: int
    total: Decimal


class PrepaymentTotals(_Response):
    taken: Decimal
    used: Decimal
    returned: Decimal
    refunded: Decimal


class EntryRange(_Response):
    count: int
    first: int | None
    last: int | None


class ReceiptRange(_Response):
    first: int | None
    last: int | None


class ReportTotals(_Response):
    """What a report states of its shift (``tax_regimes`` by regime name, ``unspecified`` included)."""

    documents: DocumentTotals
    tenders: Tenders
    net_cash: Decimal
    tax_regimes: dict[str, RegimeTotals]
    vat: VatTotals
    refunds: RefundTotals
    prepayments: PrepaymentTotals
    entries: EntryRange
    receipts: ReceiptRange


class Report(_Response):
    """An X report (the open shift's totals) or a Z report (the same, and the shift closed)."""

    id: int
    type: ReportType
    shift: int
    closes_shift: bool
    url_id: str
    cashier_id: int | None
    journal_number: int
    opened_at: datetime | None
    created_at: datetime
    pdf_url: str
    totals: ReportTotals


class ReportPage(_Response):
    """A page of ``GET /reports``; ``next_cursor`` is None on the last page."""

    items: list[Report]
    next_cursor: str | None


class DocumentListItem(_Response):
    """One row of ``GET /sales``, ``/sales/refunds`` or ``/prepayments/refunds``."""

    id: int
    url_id: str
    receipt_url: str | None
    total: Decimal
    state: FiscalStatus
    created_at: datetime
    receipt_id: int | None
    sale_id: int | None = None
    prepayment_id: int | None = None


class DocumentPage(_Response):
    """A page of a document list; ``next_cursor`` is None on the last page."""

    items: list[DocumentListItem]
    next_cursor: str | None


# --- the error envelope ---


class Issue(_Response):
    """One problem of a 400: ``path`` locates the field (``["items", 0, "price"]``)."""

    path: list[str | int]
    message: str
    code: str | None = None


class Pending(_Response):
    """A fiscal document the server kept though the tax authority has not registered it.

    ``may_resubmit``: SRC registered nothing and nothing will send it — resubmit (the same idempotency key may
    be reused). Otherwise the server settles it: poll ``status_url``, do not resend.
    """

    type: DocumentType
    id: int
    status_url: str
    may_resubmit: bool


# --- pairing ---


class ConnectRequestCreate(_Request):
    """A connect request: where the merchant's browser comes back to, the shop's name, an opaque ``state`` and
    the PKCE S256 challenge (``pkce_pair()``)."""

    redirect_uri: str
    """``https://…``, or plain ``http://`` on a loopback host; no fragment, no credentials."""
    store_name: str
    """Shown to the merchant; the API key is named after it."""
    state: str
    code_challenge: str


class ConnectRequestCreated(_Response):
    request_id: str
    connect_url: str
    """Open it in the merchant's browser: they sign in, pick a register and approve (or deny)."""
    expires_at: datetime


class ConnectExchanged(_Response):
    api_key: str
    """The register's new API key (shown this once)."""
    expires_at: datetime | None
    """None: the key does not expire (it is revoked in the console)."""
    vcr_id: int
    crn: str | None
    register_name: str
