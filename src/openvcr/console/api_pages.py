"""The console's pages (registered on ``console.api.router``). Each names its permission; each reads through
``console.views`` (one business) and changes through the domain services, with an audit entry."""

from __future__ import annotations

import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends
from fastapi import Path as PathParam
from pydantic import ValidationError as PydanticError
from starlette.responses import Response

from openvcr.catalog import service as catalog
from openvcr.catalog.models import TAX_REGIMES, OfferTitle
from openvcr.catalog.schemas import CashierCreate, DepartmentCreate, OfferCreate
from openvcr.console import service, views
from openvcr.console.api import BASE, PageRefused, View, action, page, parse_date, redirect, render, router
from openvcr.console.charts import day_bars, share_bars
from openvcr.console.models import ROLES
from openvcr.console.repository import SaleFilter
from openvcr.console.security import new_token
from openvcr.core.errors import Conflict, NotFound, OpenVCRError, ValidationFailed
from openvcr.core.limits import MAX_ID
from openvcr.documents.engine import receipt_url
from openvcr.documents.models import RequestKey
from openvcr.prepayments.schemas import PrepaymentRefundCreate
from openvcr.prepayments.service import PrepaymentsService
from openvcr.registers.keys import check_scopes, create_key, revoke_key, rotate_key
from openvcr.registers.models import SCOPES
from openvcr.registers.service import REGIME_TITLES
from openvcr.sales.schemas import SaleRefundCreate
from openvcr.sales.service import SalesService
from openvcr.store.types import names_no_row

Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]  # a larger or smaller id in a path is a 400, never a look-up
DOCUMENT_STATES = ("completed", "pending", "sent", "in_doubt", "deferred", "dropped")


def _not_found(view: View, error: NotFound) -> PageRefused:
    return PageRefused(404, error.message, view.lang)


def _int(value: str, name: str) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed.at([name], f"{name}: not a whole number") from None
    if names_no_row(number):
        raise ValidationFailed.at([name], f"{name}: out of range")
    return number


def _amount(value: str, name: str) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed.at([name], f"{name}: not an amount") from None
    if not amount.is_finite() or abs(amount) > Decimal("1e16"):
        raise ValidationFailed.at([name], f"{name}: out of range")
    return amount


# ---- overview ----------------------------------------------------------------------------------------------


@router.get("/overview")
def overview(view: Annotated[View, Depends(page("overview"))]) -> Response:
    data = views.overview(view.db, view.entity_id)
    labels = {"cash": "Cash", "non_cash": "Non-cash", "prepayment": "Prepayment", "compensation": "Compensation"}
    return render(
        view,
        "overview.html",
        data=data,
        day_bars=day_bars(data.days),
        tender_bars=share_bars([(view.t(labels[k]), v) for k, v in data.month.tenders.items()]),
        regime_bars=share_bars(
            [(REGIME_TITLES.get(k, {}).get(view.lang, k), v) for k, v in sorted(data.month.regimes.items())]
        ),
    )


# ---- registers ---------------------------------------------------------------------------------------------


@router.get("/registers")
def registers(view: Annotated[View, Depends(page("registers"))]) -> Response:
    return render(view, "registers.html", registers=views.registers(view.db, view.entity_id),
                  src_cert_expiry=views.src_certificate_expiry(view.ctx.settings))  # fmt: skip


# ---- API keys ----------------------------------------------------------------------------------------------


def _keys_page(view: View, status: int = 200, **values: Any) -> Response:
    return render(
        view,
        "keys.html",
        status,
        keys=views.keys(view.db, view.entity_id),
        registers=views.registers(view.db, view.entity_id),
        scopes=SCOPES,
        local_date=views.local_date,
        **values,
    )


@router.get("/keys")
def keys(view: Annotated[View, Depends(page("keys"))]) -> Response:
    return _keys_page(view)


@router.post("/keys")
def create_key_action(view: Annotated[View, Depends(action("keys"))]) -> Response:
    try:
        register_id = views.own_register(view.db, view.entity_id, _int(view.form.get("register"), "register") or 0)
        name = view.form.get("name")[:100] or None
        scopes = check_scopes(view.form.all("scope"))
        with view.db.write() as conn:
            issued = create_key(conn, register_id, scopes, name)
            view.record(conn, "key.create", f"key {issued.id}", {"register": register_id, "name": name,
                                                                 "scopes": list(issued.scopes)})  # fmt: skip
    except NotFound as missing:
        raise _not_found(view, missing) from None
    except ValidationFailed as invalid:
        return _keys_page(view, 400, error=invalid.message)
    return _keys_page(view, issued=issued)


@router.post("/keys/{key_id}/rotate")
def rotate_key_action(key_id: Id, view: Annotated[View, Depends(action("keys"))]) -> Response:
    try:
        views.key_register(view.db, view.entity_id, key_id)
        overlap = view.ctx.settings.key_rotation_overlap_seconds
        with view.db.write() as conn:
            issued = rotate_key(conn, key_id, overlap)
            view.record(conn, "key.rotate", f"key {key_id}", {"replacement": issued.id, "overlapSeconds": overlap})
    except NotFound as missing:
        raise _not_found(view, missing) from None
    except ValidationFailed as invalid:
        return _keys_page(view, 409, error=invalid.message)
    return _keys_page(view, issued=issued, replaces=key_id)


@router.post("/keys/{key_id}/revoke")
def revoke_key_action(key_id: Id, view: Annotated[View, Depends(action("keys"))]) -> Response:
    try:
        views.key_register(view.db, view.entity_id, key_id)
        with view.db.write() as conn:
            revoke_key(conn, key_id)
            view.record(conn, "key.revoke", f"key {key_id}")
    except NotFound as missing:
        raise _not_found(view, missing) from None
    except ValidationFailed as invalid:
        return _keys_page(view, 409, error=invalid.message)
    return redirect(f"{BASE}/keys")


# ---- sales and refunds -------------------------------------------------------------------------------------


@router.get("/sales")
def sales(view: Annotated[View, Depends(page("sales"))]) -> Response:
    q = view.request.query_params
    try:
        start, end = parse_date(q.get("from", ""), "from"), parse_date(q.get("to", ""), "to")
        state = q.get("state") or None
        if state is not None and state not in DOCUMENT_STATES:
            raise ValidationFailed.at(["state"], "state: unknown")
        filters = SaleFilter(
            date_from=None if start is None else views.day_start_ms(start),
            date_to=None if end is None else views.day_start_ms(end) + 86_400_000,
            cashier_id=_int(q.get("cashier", ""), "cashier"),
            min_total=_amount(q.get("min", ""), "min"),
            max_total=_amount(q.get("max", ""), "max"),
            state=state,
            receipt=_int(q.get("receipt", ""), "receipt"),
            before=_int(q.get("before", ""), "before"),
        )
    except ValidationFailed as invalid:
        return render(view, "sales.html", 400, error=invalid.message, rows=[], next_cursor=None, q=q,
                      states=DOCUMENT_STATES)  # fmt: skip
    rows, next_cursor = views.sales(view.db, view.entity_id, filters)
    next_query = urlencode([(k, v) for k, v in q.items() if k != "before" and v])
    return render(view, "sales.html", rows=rows, next_cursor=next_cursor, q=q, next_query=next_query,
                  states=DOCUMENT_STATES)  # fmt: skip


def _sale_page(view: View, sale_id: int, status: int = 200, **values: Any) -> Response:
    try:
        register_id = views.sale_register(view.db, view.entity_id, sale_id)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    detail = SalesService(view.ctx.engine).sale_detail(register_id, sale_id)
    public = view.ctx.settings.public_url
    return render(
        view,
        "sale.html",
        status,
        sale=detail,
        time=views.local_time(detail.created_at),
        receipt_link=receipt_url(public, detail.url_id, detail.receipt, detail.receipt_language),
        pdf_link=f"/r/{detail.url_id}.pdf" if detail.receipt else None,
        email=views.receipt_email(view.db, detail.url_id),
        refund_links=[(r, receipt_url(public, r.url_id, r.receipt, r.receipt_language)) for r in detail.refunds],
        cashiers=catalog.list_cashiers(view.db, register_id),
        may_refund=view.session.may("refunds") and detail.state == "completed",
        refund_token=new_token(),
        title_of=lambda texts: texts.get(view.lang) or texts.get("hy") or next(iter(texts.values()), ""),
        **values,
    )


@router.get("/sales/{sale_id}")
def sale(sale_id: Id, view: Annotated[View, Depends(page("sales"))]) -> Response:
    return _sale_page(view, sale_id)


@router.post("/sales/{sale_id}/refund")
def refund(sale_id: Id, view: Annotated[View, Depends(action("refunds"))]) -> Response:
    """A whole or partial refund through the sales service (as ``POST /api/v1/sales/refund``); the form's
    one-time token is the Idempotency-Key, so a form sent twice refunds once."""
    try:
        register_id = views.sale_register(view.db, view.entity_id, sale_id)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    form = view.form
    items = []
    for name, values in form.fields.items():
        if name.startswith("qty_") and values and values[0].strip() not in ("", "0"):
            items.append({"srcId": name.removeprefix("qty_"), "quantity": values[0].strip()})
    payload: dict[str, Any] = {"cashier": {"id": form.get("cashier") or "0"}, "saleId": sale_id}
    if form.get("whole") != "1":
        if not items:
            return _sale_page(view, sale_id, 400, error="Choose the quantities to refund")
        payload["items"] = items
    try:
        body = SaleRefundCreate.model_validate(payload)
    except ValueError:
        return _sale_page(view, sale_id, 400, error="The quantities or the cashier are not valid")
    token = form.get("token") or None
    key = RequestKey.of("POST /sales/refund", register_id, token, body.model_dump(mode="json", by_alias=True))
    try:
        outcome = SalesService(view.ctx.engine).refund_sale(register_id, body, key)
    except (ValidationFailed, Conflict) as refused:
        return _sale_page(view, sale_id, 409 if isinstance(refused, Conflict) else 400, error=refused.message)
    except OpenVCRError as failed:
        return _sale_page(view, sale_id, 502, error=failed.message)
    if not outcome.replayed:  # a form sent again answers the same refund, done once
        view.audit("sale.refund", f"sale {sale_id}", {"items": payload.get("items", "all")})
    return _sale_page(view, sale_id, refunded=True)


# ---- documents awaiting fiscalization or in doubt ----------------------------------------------------------


@router.get("/documents")
def documents(view: Annotated[View, Depends(page("documents"))]) -> Response:
    return render(view, "documents.html", documents=views.waiting_documents(view.db, view.entity_id))


@router.post("/documents/resolve")
def resolve(view: Annotated[View, Depends(action("documents"))]) -> Response:
    """Ask SRC about this business's requests in doubt, then settle what can be settled now (the recovery
    maintenance runs every ``OPENVCR_MAINTENANCE_INTERVAL_SECONDS``), and show the list again."""
    error = None
    try:
        for register_id in views.register_ids(view.db, view.entity_id):
            view.ctx.src.resolve_in_doubt(register_id)
        view.ctx.engine.recover(min_age_ms=int(view.ctx.settings.recovery_min_age_seconds * 1000))
    except OpenVCRError as failed:
        error = failed.message
    view.audit("documents.resolve")
    return render(view, "documents.html", documents=views.waiting_documents(view.db, view.entity_id), error=error,
                  resolved=error is None)  # fmt: skip


# ---- catalogue ---------------------------------------------------------------------------------------------


def _catalog_page(view: View, register_id: int | None = None, status: int = 200, **values: Any) -> Response:
    regs = views.registers(view.db, view.entity_id)
    if not regs:
        return render(view, "catalog.html", status, registers=[], register_id=None, **values)
    if register_id is None:
        register_id = regs[0].id
    search = view.request.query_params.get("q", "").strip().lower()
    offers = catalog.list_offers(view.db, register_id, external_id=None, type_=None, include_archived=True)
    if search:
        offers = [o for o in offers if search in " ".join([o.external_id or "", *o.title.texts.values()]).lower()]
    return render(
        view,
        "catalog.html",
        status,
        registers=regs,
        register_id=register_id,
        cashiers=catalog.list_cashiers(view.db, register_id),
        departments=catalog.list_departments(view.db, register_id),
        offers=offers[:200],
        search=search,
        may_write=view.session.may("catalog:write"),
        regimes=TAX_REGIMES,
        **values,
    )


@router.get("/catalog")
def catalogue(view: Annotated[View, Depends(page("catalog"))]) -> Response:
    try:
        register_id = _int(view.request.query_params.get("register", ""), "register")
        if register_id is not None:
            views.own_register(view.db, view.entity_id, register_id)
    except ValidationFailed as invalid:
        return _catalog_page(view, None, 400, error=invalid.message)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    return _catalog_page(view, register_id)


def _offer_action(view: View, register: str) -> int:
    try:
        return views.own_register(view.db, view.entity_id, _int(register, "register") or 0)
    except (NotFound, ValidationFailed):
        raise PageRefused(404, "Not found", view.lang) from None


@router.post("/catalog/offers/{offer_id}/rename")
def rename_offer(offer_id: Id, view: Annotated[View, Depends(action("catalog:write"))]) -> Response:
    register_id = _offer_action(view, view.form.get("register"))
    titles = {lang: view.form.get(f"title_{lang}") for lang in ("hy", "ru", "en") if view.form.get(f"title_{lang}")}
    if "hy" not in titles:
        return _catalog_page(view, register_id, 400, error="An Armenian title is needed")
    try:
        catalog.rename_offer(view.db, register_id, offer_id, OfferTitle("localized", titles))
    except NotFound as missing:
        raise _not_found(view, missing) from None
    view.audit("offer.rename", f"offer {offer_id}", {"title": titles})
    return redirect(f"{BASE}/catalog?register={register_id}")


@router.post("/catalog/offers/{offer_id}/archive")
def archive_offer(offer_id: Id, view: Annotated[View, Depends(action("catalog:write"))]) -> Response:
    register_id = _offer_action(view, view.form.get("register"))
    try:
        catalog.archive_offer(view.db, register_id, offer_id)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    view.audit("offer.archive", f"offer {offer_id}")
    return redirect(f"{BASE}/catalog?register={register_id}")


# ---- people and the audit log ------------------------------------------------------------------------------


def _people_page(view: View, status: int = 200, **values: Any) -> Response:
    users = service.users_of(view.db, view.entity_id)
    roles = {u.id: next(m.role for m in u.memberships if m.entity_id == view.entity_id) for u in users}
    return render(view, "people.html", status, users=users, roles=roles, all_roles=ROLES, **values)


@router.get("/people")
def people(view: Annotated[View, Depends(page("people"))]) -> Response:
    return _people_page(view)


@router.post("/people")
def add_person(view: Annotated[View, Depends(action("people"))]) -> Response:
    """Add a person to this business with a role; they sign in first with a one-time link, shown once."""
    session = view.session
    try:
        user, _ = service.add_user(view.db, email=view.form.get("email"), role=view.form.get("role"),
                                   tin=session.business.tin, password=None, actor=session.email,
                                   actor_id=session.user_id)  # fmt: skip
        token = service.issue_login_link(view.db, view.ctx.settings, user.email, entity_id=view.entity_id,
                                         actor=session.email, actor_id=session.user_id)  # fmt: skip
    except (ValidationFailed, Conflict) as refused:
        return _people_page(view, 400 if isinstance(refused, ValidationFailed) else 409, error=refused.message)
    return _people_page(view, added=user.email, link=service.login_link_url(view.ctx.settings, token))


@router.post("/people/{user_id}/role")
def change_role(user_id: Id, view: Annotated[View, Depends(action("people"))]) -> Response:
    role = view.form.get("role") or None
    try:
        service.change_member(view.db, view.session, user_id, role if role != "remove" else None)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    except (ValidationFailed, Conflict) as refused:
        return _people_page(view, 400 if isinstance(refused, ValidationFailed) else 409, error=refused.message)
    return redirect(f"{BASE}/people")


@router.get("/audit")
def audit(view: Annotated[View, Depends(page("audit"))]) -> Response:
    entries = service.audit_log(view.db, view.entity_id)
    return render(view, "audit.html", entries=entries, local_time=views.local_time)


# ---- prepayments -------------------------------------------------------------------------------------------


def _prepayments_page(view: View, status: int = 200, **values: Any) -> Response:
    customer = view.request.query_params.get("customer", "").strip() or None
    entries = PrepaymentsService(view.ctx.engine).prepayments(view.entity_id, customer, "all")
    balances: dict[str, Decimal] = {}
    for entry in entries:
        if entry.state == "open":
            balances[entry.customer_ref] = balances.get(entry.customer_ref, Decimal("0.00")) + entry.remaining
    return render(view, "prepayments.html", status, entries=entries, balances=sorted(balances.items()),
                  customer=customer or "", local_time=views.local_time, token=new_token(),
                  may_refund=view.session.may("refunds"), **values)  # fmt: skip


@router.get("/prepayments")
def prepayments(view: Annotated[View, Depends(page("prepayments"))]) -> Response:
    return _prepayments_page(view)


@router.post("/prepayments/{prepayment_id}/refund")
def refund_prepayment(prepayment_id: Id, view: Annotated[View, Depends(action("refunds"))]) -> Response:
    """Refund what is left of a prepayment, on its own register, through the prepayments service (as
    ``POST /api/v1/prepayments/refund``); the form's one-time token is the Idempotency-Key."""
    service_ = PrepaymentsService(view.ctx.engine)
    try:
        found = service_.prepayment(view.entity_id, prepayment_id)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    register_id = found.prepayment.register_id
    body = PrepaymentRefundCreate.model_validate({"cashier": {"id": found.cashier.id}, "prepaymentId": prepayment_id})
    token = view.form.get("token") or None
    key = RequestKey.of("POST /prepayments/refund", register_id, token, body.model_dump(mode="json", by_alias=True))
    try:
        outcome = service_.refund_prepayment(register_id, body, key)
    except (ValidationFailed, Conflict) as refused:
        return _prepayments_page(view, 409 if isinstance(refused, Conflict) else 400, error=refused.message)
    except OpenVCRError as failed:
        return _prepayments_page(view, 502, error=failed.message)
    if not outcome.replayed:
        view.audit("prepayment.refund", f"prepayment {prepayment_id}")
    return _prepayments_page(view, refunded=prepayment_id)


# ---- register connection check -----------------------------------------------------------------------------


@router.post("/registers/{register_id}/check")
def check_register(register_id: Id, view: Annotated[View, Depends(action("registers"))]) -> Response:
    """SRC's checkConnection with the register's own credentials."""
    try:
        views.own_register(view.db, view.entity_id, register_id)
    except NotFound as missing:
        raise _not_found(view, missing) from None
    try:
        view.ctx.src.check_connection(register_id)
        outcome = (register_id, True, "")
    except OpenVCRError as failed:
        outcome = (register_id, False, failed.message)
    view.audit("register.check", f"register {register_id}", {"ok": outcome[1]})
    return render(view, "registers.html", registers=views.registers(view.db, view.entity_id), checked=outcome,
                  src_cert_expiry=views.src_certificate_expiry(view.ctx.settings))  # fmt: skip


# ---- outbox ------------------------------------------------------------------------------------------------


@router.get("/outbox")
def outbox(view: Annotated[View, Depends(page("outbox"))]) -> Response:
    return render(view, "outbox.html", deliveries=views.deliveries(view.db, view.entity_id))


# ---- catalogue: create (through the API's own request models and the catalogue service) --------------------


def _created(view: View, register_id: int, what: str, make: Any) -> Response:
    try:
        made = make()
    except PydanticError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return _catalog_page(view, register_id, 400, error=f"{where}: {first['msg']}")
    except (ValidationFailed, Conflict) as refused:
        return _catalog_page(view, register_id, 409 if isinstance(refused, Conflict) else 400, error=refused.message)
    except OpenVCRError as failed:
        return _catalog_page(view, register_id, 502, error=failed.message)
    view.audit(f"{what}.create", f"{what} {made}", {"register": register_id})
    return redirect(f"{BASE}/catalog?register={register_id}")


@router.post("/catalog/cashiers")
def create_cashier(view: Annotated[View, Depends(action("catalog:write"))]) -> Response:
    register_id = _offer_action(view, view.form.get("register"))

    def make() -> int:
        body = CashierCreate.model_validate(
            {
                "name": {"value": {"hy": view.form.get("name")}, "localizationStrategy": "transliteration"},
                "password": view.form.get("pin"),
            }
        )
        return catalog.create_cashier(view.db, register_id, body.name.given(), body.name.localization_strategy,
                                      body.password).id  # fmt: skip

    return _created(view, register_id, "cashier", make)


@router.post("/catalog/departments")
def create_department(view: Annotated[View, Depends(action("catalog:write"))]) -> Response:
    register_id = _offer_action(view, view.form.get("register"))

    def make() -> int:
        title = {"value": {"hy": view.form.get("title")}, "localizationStrategy": "transliteration"}
        external = view.form.get("external") or None
        body = DepartmentCreate.model_validate({"taxRegime": view.form.get("regime"), "title": title,
                                                "externalId": external})  # fmt: skip
        return catalog.create_department(view.db, view.ctx.src, register_id, external_id=body.external_id,
                                         tax_regime=body.tax_regime, title=body.title.given(),
                                         strategy=body.title.localization_strategy).id  # fmt: skip

    return _created(view, register_id, "department", make)


@router.post("/catalog/offers")
def create_offer(view: Annotated[View, Depends(action("catalog:write"))]) -> Response:
    register_id = _offer_action(view, view.form.get("register"))

    def make() -> int:
        body = OfferCreate.model_validate({
            "type": view.form.get("type"), "classifierCode": view.form.get("classifier"),
            "title": {"type": "localized", "content": {"hy": view.form.get("title")}},
            "defaultMeasureUnit": view.form.get("unit"), "defaultDepartment": {"id": view.form.get("department")},
            "externalId": view.form.get("external") or None,
        })  # fmt: skip
        title = catalog.offer_title("localized", body.title.localized_content(), body.title.localization_strategy,
                                    ["title"])  # fmt: skip
        spec = catalog.OfferSpec(type=body.type, classifier_code=body.classifier_code, title=title,
                                 unit=body.default_measure_unit, department_id=body.default_department.id,
                                 external_id=body.external_id)  # fmt: skip
        return catalog.create_offer(view.db, register_id, spec).id

    return _created(view, register_id, "offer", make)


# ---- V-SDC devices -----------------------------------------------------------------------------------------


def _devices_page(view: View, status: int = 200, **values: Any) -> Response:
    return render(view, "devices.html", status, devices=views.devices(view.db, view.entity_id), **values)


@router.get("/devices")
def devices(view: Annotated[View, Depends(page("devices"))]) -> Response:
    return _devices_page(view)


@router.post("/devices")
def add_device(view: Annotated[View, Depends(action("devices"))]) -> Response:
    """A new V-SDC device of this business (a V-SDC taxpayer): its client certificate and key are answered
    once, as a PKCS#12 file protected by the given passphrase; nothing of the key is kept."""
    from openvcr.vsdc import service as vsdc

    mcr, passphrase = view.form.get("mcr"), view.form.get("passphrase")
    if len(passphrase) < 8:
        return _devices_page(view, 400, error="The passphrase has at least 8 characters")
    mode = "sandbox" if view.ctx.settings.environment != "production" and view.form.get("sandbox") else "production"
    with tempfile.TemporaryDirectory(prefix="openvcr-device-") as out:
        try:
            files = vsdc.add_device(view.db, view.ctx.settings, tin=view.session.business.tin, mcr=mcr,
                                    out_dir=Path(out), passphrase=passphrase, mode=mode)  # fmt: skip
        except (ValidationFailed, Conflict, NotFound) as refused:
            status = 400 if isinstance(refused, ValidationFailed) else 409
            return _devices_page(view, status, error=refused.message)
        bundle = files.p12.read_bytes()
    view.audit("device.add", f"MCR {mcr}", {"serial": files.serial, "mode": mode})
    return Response(
        bundle,
        media_type="application/x-pkcs12",
        headers={"Content-Disposition": f'attachment; filename="{files.serial}.p12"', "Cache-Control": "no-store"},
    )


@router.post("/devices/{register_id}/revoke")
def revoke_device(register_id: Id, view: Annotated[View, Depends(action("devices"))]) -> Response:
    from openvcr.vsdc import service as vsdc

    found = next((d for d in views.devices(view.db, view.entity_id) if d.register_id == register_id), None)
    if found is None:
        raise PageRefused(404, "Not found", view.lang)
    try:
        vsdc.revoke_device(view.db, found.mcr)
    except Conflict as refused:
        return _devices_page(view, 409, error=refused.message)
    view.audit("device.revoke", f"MCR {found.mcr}")
    return redirect(f"{BASE}/devices")
