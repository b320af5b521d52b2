"""``verify_webhook`` accepts exactly what the server's signer (``core.webhooks``) produces for the same secret,
time and body, and refuses every change to any of them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.client import WebhookVerificationError, verify_webhook
from openvcr.core.webhooks import new_secret, signature_header

BODY = b'{"id":"evt_1","type":"sale.completed","createdAt":"2026-12-07T10:00:00.000Z","data":{"total":4000.5}}'
NOW = 1_800_000_000


def test_a_server_signature_verifies_and_money_reads_as_decimal() -> None:
    secret = new_secret()
    event = verify_webhook(secret, signature_header(secret, NOW, BODY), BODY, now=NOW)
    assert (event.id, event.type) == ("evt_1", "sale.completed")
    assert event.data["total"] == Decimal("4000.5") and isinstance(event.data["total"], Decimal)
    assert verify_webhook(secret, signature_header(secret, NOW, BODY), BODY.decode(), now=NOW + 300).id == "evt_1"


@given(body=st.binary(max_size=200), timestamp=st.integers(min_value=0, max_value=2**40))
def test_any_change_of_body_or_time_is_refused(body: bytes, timestamp: int) -> None:
    secret = "whsec_fixed"
    header = signature_header(secret, timestamp, body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, header, body + b" ", tolerance=None)
    moved = header.replace(f"t={timestamp},", f"t={timestamp + 1},")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, moved, body, tolerance=None)


def test_a_second_v1_signature_is_accepted_during_a_secret_change_and_bad_headers_are_refused() -> None:
    secret = new_secret()
    good = signature_header(secret, NOW, BODY)
    both = f"{signature_header('whsec_old', NOW, BODY)},{good.split(',')[1]}"
    assert verify_webhook(secret, both, BODY, now=NOW).id == "evt_1"
    for header in ("", "t=1", "v1=ab", "t=x,v1=ab", f"t={NOW},v1="):
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret, header, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(secret, good, BODY, tolerance=10, now=NOW - 11)
    with pytest.raises(WebhookVerificationError, match="not a webhook event"):
        verify_webhook(secret, signature_header(secret, NOW, b"[]"), b"[]", now=NOW)
