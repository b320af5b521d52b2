"""The certificate banner: every console page of a business with a register whose own SRC certificate is
expiring (``WARN_DAYS``) or expired names the register and the date.

It reads ``AppContext.certificates``' snapshot (refreshed at start-up and by maintenance), never the database:
a page costs no more I/O than it did.
"""

from __future__ import annotations

from dataclasses import dataclass

from openvcr.authority.expiry import CertificateWatch
from openvcr.authority.identity import iso_date
from openvcr.console.i18n import translate

EXPIRED = "The SRC certificate of register {register} (CRN {crn}) expired on {date}: nothing is sent to SRC for it."
EXPIRING = "The SRC certificate of register {register} (CRN {crn}) expires on {date} ({days} days left)."


@dataclass(frozen=True)
class CertificateWarning:
    register_id: int
    status: str  # expiring | expired
    date: str  # YYYY-MM-DD (UTC), the certificate's notAfter
    text: str


def certificate_warnings(watch: CertificateWatch, entity_id: int, language: str) -> list[CertificateWarning]:
    """The warnings of ``entity_id``'s registers, in ``language``, from the watch's last snapshot."""
    warnings = []
    for state in watch.snapshot():
        if state.entity_id != entity_id or state.status == "valid":
            continue
        date = iso_date(state.not_after)
        template = translate(language, EXPIRED if state.status == "expired" else EXPIRING)
        text = template.format(register=state.register_id, crn=state.crn or "—", date=date, days=state.days_left)
        warnings.append(CertificateWarning(state.register_id, state.status, date, text))
    return warnings
