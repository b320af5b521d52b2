"""The receipt SMS text: composition per language, GSM-7 or UCS-2, concatenated parts, masking, E.164, the
SMPP URL and delivery receipts as an SMSC writes them."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.core.phone import is_e164, mask
from openvcr.receipts.smpp import SmppServer, parse_receipt
from openvcr.receipts.sms import GSM7, UCS2, UDHI, SmsFacts, compose, decode, encode, gsm7_septets

URL = "https://receipts.shop.test/r/AbCdEfGhIjKlMnOp"


def facts(language: str = "hy", **changes: object) -> SmsFacts:
    base: dict[str, object] = {
        "kind": "sale",
        "business": "«Ավազարկղ» ՍՊԸ",
        "total": Decimal("44000"),
        "fiscal": "12345678",
        "url": URL,
        "language": language,
    }
    base.update(changes)
    return SmsFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("hy", f"«Ավազարկղ» ՍՊԸ: Կտրոն 44000.00 ֏, ՖՀ 12345678 {URL}"),
        ("ru", f"«Ավազարկղ» ՍՊԸ: Чек 44000.00 драм, ФН 12345678 {URL}"),
        ("en", f"«Ավազարկղ» ՍՊԸ: Receipt 44000.00 AMD, fiscal No. 12345678 {URL}"),
    ],
)
def test_the_text_carries_business_total_fiscal_number_and_link_in_its_language(language: str, expected: str) -> None:
    assert compose(facts(language)) == expected


def test_kinds_without_a_fiscal_number_a_long_business_and_an_unknown_language() -> None:
    text = compose(facts("xx", kind="prepayment_refund", fiscal="", business="A" * 60))
    assert text == f"{'A' * 37}...: Կանխավճարի վերադարձ 44000.00 ֏ {URL}"
    assert compose(facts("en", kind="sale_refund", total=Decimal("1.5"))).startswith("«Ավազարկղ» ՍՊԸ: Refund 1.50 AMD")


def test_gsm7_tables_and_septet_counts() -> None:
    assert gsm7_septets("Hello @£$") == 9
    assert gsm7_septets("[x]€") == 7  # the extension characters take two septets
    assert gsm7_septets("Կտրոն") is None and gsm7_septets("Чек") is None


def test_a_latin_text_is_gsm7_and_an_armenian_or_russian_one_ucs2() -> None:
    latin = encode("Shop: Receipt 44000.00 AMD", 7)
    assert (latin.data_coding, latin.esm_class, latin.parts) == (GSM7, 0, (b"Shop: Receipt 44000.00 AMD",))
    armenian = encode("Կտրոն", 7)
    assert (armenian.data_coding, armenian.parts) == (UCS2, ("Կտրոն".encode("utf-16-be"),))
    assert encode("Чек", 1).data_coding == UCS2


@pytest.mark.parametrize(("alphabet", "single", "part"), [("a", 160, 153), ("Կ", 70, 67)])
def test_one_sms_up_to_its_limit_then_concatenated_parts(alphabet: str, single: int, part: int) -> None:
    assert len(encode(alphabet * single, 9).parts) == 1
    longer = encode(alphabet * (single + 1), 9)
    assert longer.esm_class == UDHI and len(longer.parts) == 2
    first, second = longer.parts
    assert first[:6] == bytes([5, 0, 3, 9, 2, 1]) and second[:6] == bytes([5, 0, 3, 9, 2, 2])
    unit = 1 if alphabet == "a" else 2
    assert len(first) - 6 == part * unit and len(second) - 6 == (single + 1 - part) * unit
    assert all(len(p) <= 160 for p in longer.parts)  # GSM-7 travels unpacked, one septet per octet
    assert decode(longer) == alphabet * (single + 1)


def test_an_escape_pair_is_never_cut_between_parts() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = encode(text, 1)
    assert parts.parts[0][-1] == ord("a")  # the € (two septets) moved whole to the second part
    assert parts.parts[1][6:8] == bytes([0x1B, 0x65])
    assert decode(parts) == text


def test_an_armenian_receipt_text_is_ucs2_parts_that_decode_to_it() -> None:
    text = compose(facts("hy"))
    parts = encode(text, 200)
    assert parts.data_coding == UCS2 and len(parts.parts) == 2
    assert {p[3] for p in parts.parts} == {200}
    assert decode(parts) == text


@given(st.text(min_size=1, max_size=600), st.integers(0, 255))
def test_any_text_splits_into_valid_parts_that_decode_to_it(text: str, reference: int) -> None:
    parts = encode(text, reference)
    assert all(len(part) <= (160 if parts.data_coding == GSM7 else 140) for part in parts.parts)
    assert decode(parts) == text


def test_an_empty_text_or_too_many_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a text"):
        encode("", 0)
    with pytest.raises(ValueError, match="255"):
        encode("Կ" * (67 * 255 + 1), 0)


@pytest.mark.parametrize("number", ["+37491123456", "+79261234567", "+14155550123", "+4930123456"])
def test_e164_numbers_of_any_country(number: str) -> None:
    assert is_e164(number)


@pytest.mark.parametrize(
    "number", ["37491123456", "091123456", "+374 91 123456", "+0123456789", "+37491123456\n", "+1234", "+" + "1" * 16]
)
def test_anything_else_is_not_e164(number: str) -> None:
    assert not is_e164(number)


def test_numbers_are_masked_for_logs() -> None:
    assert mask("+37491123456") == "+374******56"
    assert mask("+14155550123") == "+141******23"
    assert mask("091123456") == "*********"


def test_the_smpp_url() -> None:
    server = SmppServer.from_url("smpp://shop%40x:p%20w@smsc.example:2776?source=MyShop")
    assert (server.host, server.port, server.tls, server.system_id, server.password) == (
        "smsc.example",
        2776,
        False,
        "shop@x",
        "p w",
    )
    assert (server.source, server.bind, server.receipts) == ("MyShop", "transceiver", True)
    assert "p w" not in server.describe()
    tls = SmppServer.from_url("smpps://id:pw@smsc.example?bind=transmitter")
    assert (tls.port, tls.tls, tls.bind, tls.receipts, tls.source) == (2775, True, "transmitter", False, "OpenVCR")
    for bad in ("http://id:pw@host", "smpp://host:2775", "smpp://id:pw@host?bind=receiver"):
        with pytest.raises(ValueError):  # noqa: PT011 - the message names the form
            SmppServer.from_url(bad)


def test_a_delivery_receipt_is_read_from_its_tlvs_or_its_text() -> None:
    text = b"id:abc123 sub:001 dlvrd:000 submit date:2612071200 done date:2612071201 stat:UNDELIV err:001 text:"
    from_text = parse_receipt(SimpleNamespace(short_message=text, receipted_message_id=None, message_state=None))
    assert from_text is not None
    assert (from_text.message_id, from_text.state, from_text.error, from_text.delivered) == (
        "abc123",
        "UNDELIV",
        "001",
        False,
    )
    tlv = parse_receipt(SimpleNamespace(short_message=b"", receipted_message_id=b"m1", message_state=2))
    assert tlv is not None and (tlv.message_id, tlv.delivered, tlv.final) == ("m1", True, True)
    enroute = parse_receipt(SimpleNamespace(short_message=b"", receipted_message_id=b"m1", message_state=1))
    assert enroute is not None and not enroute.final
    other = SimpleNamespace(short_message="Բարև".encode("utf-16-be"), receipted_message_id=None, message_state=None)
    assert parse_receipt(other) is None


def test_submits_are_spaced_by_the_providers_window(monkeypatch: pytest.MonkeyPatch) -> None:
    from openvcr.receipts import smpp

    class Clock:
        now = 100.0
        slept: list[float] = []  # noqa: RUF012

        def monotonic(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.slept.append(round(seconds, 6))
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(smpp, "time", clock)
    session = smpp.SmppSession(SmppServer.from_url("smpp://id:pw@host"), lambda _r: None, per_second=4)
    for _ in range(3):
        session._throttle()
    assert clock.slept == [0.25, 0.25]  # 4 per second: the 2nd and 3rd wait a quarter second each
    clock.now += 10  # idle for a while: no debt is carried over
    session._throttle()
    assert clock.slept == [0.25, 0.25]
