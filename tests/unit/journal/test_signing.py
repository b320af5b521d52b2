"""ECDSA P-256 signing, golden vectors, and private keys encrypted at rest."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from openvcr.core.canonical import canonical_bytes
from openvcr.core.journal import GENESIS_HASH, Counters, CountersDelta, entry_content, entry_hash
from openvcr.core.signing import (
    EcdsaP256Signer,
    KeyDecryptionError,
    Signer,
    decrypt_private_key,
    encrypt_private_key,
    load_public_key,
    verify_signature,
)

GOLDEN = Path(__file__).parents[2] / "data" / "journal_golden.json"


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return dict(json.loads(GOLDEN.read_text(encoding="utf-8")))


def _golden_entry(key_id: str) -> dict[str, Any]:
    body = {
        "saleId": 17,
        "buyer": {"name": "Արամ Պետրոսյան"},
        "lines": [
            {
                "offer": "A-1",
                "quantity": Decimal("2.000"),
                "price": Decimal("25000.00"),
                "discount": Decimal("10.00"),
                "additionalDiscount": Decimal("1000.00"),
                "total": Decimal("44000.00"),
            },
            {"offer": "B-7", "quantity": Decimal("1.500"), "price": Decimal("1000.00"), "total": Decimal("1500.00")},
        ],
        "total": Decimal("45500.00"),
        "paid": {"cash": Decimal("6000.00"), "nonCash": Decimal("40000.00")},
        "change": Decimal("500.00"),
        "vat": Decimal("7583.33"),
        "comment": 'tab\tquote" é',
    }
    counters = Counters().apply("sale", CountersDelta.sale(Decimal("45500.00"), Decimal("7583.33")))
    return entry_content(
        register_id=1,
        number=1,
        doc_type="sale",
        doc_ref="17",
        body=body,
        counters=counters,
        prev_hash=GENESIS_HASH,
        time_ms=1_700_000_000_000,
        key_id=key_id,
    )


def test_golden_document_gives_the_golden_canonical_bytes_and_hash(golden: dict[str, Any]) -> None:
    data = canonical_bytes(_golden_entry(golden["key_id"]))
    assert data == golden["canonical"].encode("utf-8")
    assert entry_hash(data) == golden["sha256"]


def test_golden_key_has_the_golden_key_id_and_public_key(golden: dict[str, Any]) -> None:
    signer = EcdsaP256Signer.from_pem(golden["private_key_pem"])
    assert signer.key_id == golden["key_id"]
    assert signer.public_key_pem() == golden["public_key_pem"]


def test_golden_signature_verifies(golden: dict[str, Any]) -> None:
    signature = base64.b64decode(golden["signature"])
    assert verify_signature(golden["public_key_pem"], golden["canonical"].encode("utf-8"), signature)


def test_golden_signature_does_not_verify_one_altered_byte(golden: dict[str, Any]) -> None:
    data = golden["canonical"].replace("45500.00", "45500.01", 1).encode("utf-8")
    assert not verify_signature(golden["public_key_pem"], data, base64.b64decode(golden["signature"]))


def test_a_fresh_signature_of_the_golden_bytes_verifies_by_data_and_by_digest(golden: dict[str, Any]) -> None:
    signer = EcdsaP256Signer.from_pem(golden["private_key_pem"])
    data = golden["canonical"].encode("utf-8")
    key = load_public_key(golden["public_key_pem"])
    assert key.verify(data, signer.sign(data))
    assert key.verify_digest(bytes.fromhex(golden["sha256"]), signer.sign(data))
    assert key.verify(data, signer.sign_digest(bytes.fromhex(golden["sha256"])))


def test_the_in_memory_signer_is_a_signer() -> None:
    assert isinstance(EcdsaP256Signer.generate(), Signer)


def test_a_signature_by_another_key_does_not_verify() -> None:
    one, other = EcdsaP256Signer.generate(), EcdsaP256Signer.generate()
    assert not verify_signature(one.public_key_pem(), b"data", other.sign(b"data"))


def test_garbage_signature_or_key_does_not_verify_and_does_not_raise() -> None:
    signer = EcdsaP256Signer.generate()
    assert not verify_signature(signer.public_key_pem(), b"data", b"\x00" * 64)
    assert not verify_signature("not a key", b"data", signer.sign(b"data"))


def test_an_encrypted_key_decrypts_to_the_same_key() -> None:
    signer = EcdsaP256Signer.generate()
    blob = encrypt_private_key(signer, "master", b"register:1")
    assert signer.private_key_der() not in blob
    assert decrypt_private_key(blob, "master", b"register:1").key_id == signer.key_id


def test_an_encrypted_key_does_not_decrypt_with_another_master_key() -> None:
    blob = encrypt_private_key(EcdsaP256Signer.generate(), "master", b"register:1")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, "other", b"register:1")


def test_an_encrypted_key_does_not_decrypt_for_another_register() -> None:
    blob = encrypt_private_key(EcdsaP256Signer.generate(), "master", b"register:1")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(blob, "master", b"register:2")


def test_a_damaged_encrypted_key_does_not_decrypt() -> None:
    blob = bytearray(encrypt_private_key(EcdsaP256Signer.generate(), "master"))
    blob[-1] ^= 1
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(bytes(blob), "master")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(b"junk", "master")


def test_two_encryptions_of_one_key_differ() -> None:
    signer = EcdsaP256Signer.generate()
    assert encrypt_private_key(signer, "m") != encrypt_private_key(signer, "m")


def test_an_empty_master_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        encrypt_private_key(EcdsaP256Signer.generate(), "")
