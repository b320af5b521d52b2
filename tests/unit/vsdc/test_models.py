"""Pure rules of the V-SDC: verification URL, encodings, counters, numbering, journal placeholders."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest

from openvcr.vsdc import crypto
from openvcr.vsdc.models import (
    Counters,
    fill_journal,
    form_encode,
    format_amount,
    invoice_hash,
    number_recu,
    parse_date,
    verification_url,
)

REFERENCE = (
    "https://avatar-atax.systemonenoc.com/avatar-public/ticket/verify?tin=00000&date=2015-06-29+06%3A56%3A27+-0400"
    "&itype=N&ttype=S&mcr=0000&ino=0000&data=0000&sign=0000&hb=100&mr=18&lr=16&lb=21.55&lt=3.45&zr=32"
)


def test_verification_url_matches_the_contract_reference_value_byte_for_byte() -> None:
    url = verification_url(
        "https://avatar-atax.systemonenoc.com/avatar-public",
        {
            "tin": "00000",
            "date": "2015-06-29 06:56:27 -0400",
            "bid": "",
            "itype": "N",
            "ttype": "S",
            "mcr": "0000",
            "ino": "0000",
            "data": "0000",
            "sign": "0000",
            "hr": Decimal("0"),
            "hb": Decimal("100"),
            "ht": Decimal("0.00"),
            "mr": Decimal("18"),
            "mb": Decimal("0"),
            "mt": Decimal("0"),
            "lr": Decimal("16.000000"),
            "lb": Decimal("21.550"),
            "lt": Decimal("3.45"),
            "zr": Decimal("32"),
            "zb": Decimal("0"),
            "zt": Decimal("0"),
            "cr": None,
            "ct": Decimal("0"),
        },
    )
    assert url == REFERENCE


def test_verification_url_keeps_the_documented_parameter_order_whatever_the_input_order() -> None:
    url = verification_url("http://x/", {"ct": Decimal("1"), "bid": " b ", "tin": "1", "sign": "s", "cr": Decimal("2")})
    assert url == "http://x/ticket/verify?tin=1&bid=b&sign=s&cr=2&ct=1"


def test_form_encoding_escapes_everything_but_letters_digits_and_dot_dash_star_underscore() -> None:
    assert form_encode("aZ09.-*_ ~+/=:Ա") == "aZ09.-*_+%7E%2B%2F%3D%3A%D4%B1"


@pytest.mark.parametrize(
    ("value", "text"),
    [("100", "100"), ("21.550", "21.55"), ("0.1234567", "0.123457"), ("18.000000", "18"), ("1E+3", "1000")],
)
def test_amounts_have_at_most_six_decimals_and_no_trailing_zeros(value: str, text: str) -> None:
    assert format_amount(Decimal(value)) == text


def test_hash_is_base64_md5_of_mcr_ino_date() -> None:
    expected = base64.b64encode(hashlib.md5(b"777|X1|2014-12-31 21:07:36 -0400").digest()).decode()  # noqa: S324
    assert invoice_hash("777", "X1", "2014-12-31 21:07:36 -0400") == expected


def test_number_recu_is_pair_count_slash_device_count_and_type_letters() -> None:
    assert number_recu(5, 7, "NS") == "5/7NS"


def test_every_journal_placeholder_is_filled_in_both_spellings() -> None:
    text = "$$date$$|$$nev$$|$$numberRecu$$|$$idata$$|$idata$$|$$signature$$|$signature$$"
    values = {"date": "D", "nev": "N", "numberRecu": "R", "idata": "I", "signature": "S"}
    assert fill_journal(text, values) == "D|N|R|I|I|S|S"


def test_a_filled_value_is_not_filled_again() -> None:
    assert (
        fill_journal(
            "$$nev$$", {"nev": "$$date$$", "date": "X"} | dict.fromkeys(["numberRecu", "idata", "signature"], "")
        )
        == "$$date$$"
    )


@pytest.mark.parametrize("text", ["2014-12-31T21:07:36-0400", "2014-12-31 21:07:36", "2014-12-31 21:07 -0400", "x"])
def test_dates_other_than_the_contract_format_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="yyyy-MM-dd"):
        parse_date(text)


def _counters() -> Counters:
    return Counters(
        invoice_count=7,
        pairs={"NS": 5, "NR": 1, "PS": 0, "PR": 0, "TS": 1, "TR": 0},
        sales_total=Decimal("12345.67"),
        refund_total=Decimal("10.00"),
        sales_tax_total=Decimal("1883.24"),
        refund_tax_total=Decimal("1.53"),
    )


def test_counters_survive_packing_and_encryption() -> None:
    key = crypto.new_counter_key()
    data = crypto.encrypt_counters(_counters(), key, "777", "X1")
    assert crypto.decrypt_counters(data, key, "777", "X1") == _counters()


def test_internal_data_of_another_invoice_or_key_does_not_decrypt() -> None:
    key = crypto.new_counter_key()
    data = crypto.encrypt_counters(_counters(), key, "777", "X1")
    with pytest.raises(crypto.InternalDataError):
        crypto.decrypt_counters(data, key, "777", "X2")
    with pytest.raises(crypto.InternalDataError):
        crypto.decrypt_counters(data, crypto.new_counter_key(), "777", "X1")
    tampered = base64.b64encode(bytes([base64.b64decode(data)[0] ^ 1]) + base64.b64decode(data)[1:]).decode()
    with pytest.raises(crypto.InternalDataError):
        crypto.decrypt_counters(tampered, key, "777", "X1")


def test_counters_never_below_compares_every_counter() -> None:
    later = _counters()
    earlier = Counters(6, dict(later.pairs) | {"NS": 4}, Decimal("100.00"), Decimal("0"), Decimal("1"), Decimal("0"))
    assert later.never_below(earlier)
    assert not earlier.never_below(later)


def test_secrets_at_rest_open_only_with_the_same_master_key_and_context() -> None:
    blob = crypto.seal_secret(b"k" * 32, "master", b"vsdc:device:1")
    assert crypto.open_secret(blob, "master", b"vsdc:device:1") == b"k" * 32
    with pytest.raises(ValueError, match="does not decrypt"):
        crypto.open_secret(blob, "other", b"vsdc:device:1")
    with pytest.raises(ValueError, match="does not decrypt"):
        crypto.open_secret(blob, "master", b"vsdc:device:2")
