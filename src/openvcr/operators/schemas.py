"""API shapes of the operator API (``/api/operator/v1``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openvcr.operators.models import Business, InvitedOwner, RegisterHealth
from openvcr.schemas import ApiModel, OutModel, Text, iso_ms


class BusinessCreate(ApiModel):
    tin: str = Field(pattern=r"^[0-9]{8}$", description="The taxpayer's TIN (8 digits)")
    name: Text = Field(min_length=1, max_length=200, description="The taxpayer's name")
    address: Text | None = Field(default=None, max_length=300)


class BusinessOut(OutModel):
    id: int
    tin: str
    name: str
    address: str | None

    @classmethod
    def of(cls, business: Business) -> BusinessOut:
        return cls(id=business.id, tin=business.tin, name=business.name, address=business.address)


class OwnerInvite(ApiModel):
    email: Text = Field(min_length=3, max_length=320, description="The owner's e-mail (their console sign-in)")


class OwnerInvited(OutModel):
    business_id: int
    business_tin: str
    email: str
    role: Literal["owner"] = "owner"
    login_url: str | None = Field(
        description="A one-time console login link (null when the e-mail already has a password)"
    )
    link_valid_minutes: int | None = Field(description="How long the link works (OPENVCR_CONSOLE_LINK_MINUTES)")

    @classmethod
    def of(cls, invited: InvitedOwner) -> OwnerInvited:
        return cls(
            business_id=invited.business.id,
            business_tin=invited.business.tin,
            email=invited.email,
            login_url=invited.login_url,
            link_valid_minutes=invited.link_minutes,
        )


class RegisterCreate(ApiModel):
    business_tin: str = Field(alias="businessTin", pattern=r"^[0-9]{8}$", description="An existing business")
    mode: Literal["production", "sandbox"] = Field(
        default="production",
        description="production: a real SRC register (crn and sn issued by SRC; the answer carries its CSR); "
        "sandbox: provisioned in the SRC sandbox and activated at once (not in production)",
    )
    crn: Text | None = Field(default=None, min_length=1, max_length=32, description="Issued by SRC (production)")
    sn: Text | None = Field(default=None, min_length=1, max_length=32, description="Issued by SRC (production)")
    address: Text | None = Field(default=None, max_length=300, description="Printed on its receipts")
    trading_name: Text = Field(default="OpenVCR", alias="tradingName", min_length=1, max_length=200)


class CashierOnce(OutModel):
    id: int
    desk_id: str
    pin: str


class RegisterAdded(OutModel):
    vcr_id: int
    business_tin: str
    mode: str
    crn: str
    sn: str
    authority_status: str
    api_key: str = Field(description="The register's API key (every scope): shown once")
    cashier: CashierOnce
    csr: str | None = Field(description="PEM certificate signing request to submit to SRC (production)")


class CsrOut(OutModel):
    vcr_id: int
    csr: str


class CertificateIn(ApiModel):
    certificate: str | None = Field(default=None, description="The certificate SRC signed (PEM, chain after it)")
    ca: str | None = Field(default=None, description="The CA that signed it (PEM): checked, not stored")
    p12: str | None = Field(default=None, description="A PKCS#12 bundle (base64) instead of a certificate")
    passphrase: str | None = Field(default=None, description="The bundle's passphrase")
    activate: bool = Field(default=True, description="Activate the register with SRC afterwards")


class CertificateImported(OutModel):
    vcr_id: int
    serial: str
    subject: str
    not_after: str
    authority_status: str
    activation_error: str | None = Field(description="Why activation with SRC failed (the certificate is stored)")


class CertificateOut(OutModel):
    status: Literal["awaiting", "valid", "expiring", "expired"]
    serial: str | None
    not_after: str | None
    days_left: int | None


class RegisterHealthOut(OutModel):
    vcr_id: int
    business_tin: str
    business_name: str
    crn: str | None
    mode: str
    authority_status: str
    disabled: bool
    certificate: CertificateOut | None = Field(description="None: the register uses the global identity")
    unsettled_requests: int
    health: Literal["ok", "degraded", "disabled"]
    problems: list[str]

    @classmethod
    def of(cls, item: RegisterHealth) -> RegisterHealthOut:
        cert = item.certificate
        return cls(
            vcr_id=item.register_id,
            business_tin=item.business_tin,
            business_name=item.business_name,
            crn=item.crn,
            mode=item.mode,
            authority_status=item.authority_status,
            disabled=item.disabled,
            certificate=None
            if cert is None
            else CertificateOut(
                status=cert.status,
                serial=cert.serial,
                not_after=None if cert.not_after is None else iso_ms(cert.not_after),
                days_left=cert.days_left,
            ),
            unsettled_requests=item.unsettled_requests,
            health=item.health,
            problems=list(item.problems),
        )
