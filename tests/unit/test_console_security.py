"""Console secrets: scrypt password hashes, token digests, TOTP (RFC 6238 test vector)."""

from __future__ import annotations

import base64

from openvcr.console.security import hash_password, token_digest, totp_code, verify_password, verify_totp


def test_a_password_verifies_against_its_scrypt_hash_and_nothing_else() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$32768$8$1$")
    assert "correct horse" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert hash_password("correct horse battery") != stored  # salted


def test_a_missing_or_malformed_hash_matches_no_password() -> None:
    assert not verify_password("anything at all", None)
    assert not verify_password("anything at all", "")
    assert not verify_password("anything at all", "scrypt$x$8$1$abc$def")
    assert not verify_password("anything at all", "bcrypt$1$2$3$4$5")


def test_token_digest_is_sha256_hex() -> None:
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_totp_matches_the_rfc_6238_vector_and_allows_one_step_of_drift() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_code(secret, at=59) == "287082"  # RFC 6238 appendix B, SHA-1, truncated to 6 digits
    assert verify_totp(secret, "287082", at=59 + 30)
    assert not verify_totp(secret, "287082", at=59 + 90)
