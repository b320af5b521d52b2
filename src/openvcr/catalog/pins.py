"""Cashier PINs: 4–8 digits, stored only as a salted scrypt hash.

The API (contract v1) takes a PIN only when a cashier is created; no request carries one afterwards, so
nothing here checks a PIN.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
