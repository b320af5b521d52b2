"""Stable idempotency keys.

A key must be the same every time the same business operation is attempted — by a retry, after a crash, from
another worker — and differ between operations. Derive it from what identifies the operation in your system
(the order id, and for a second refund of the same order something that tells the refunds apart), never from
a clock or a random number.
"""

from __future__ import annotations

import hashlib

MAX_KEY_LENGTH = 128
"""The longest ``Idempotency-Key`` the server accepts."""


def idempotency_key_for(order_id: str | int, *qualifiers: str | int) -> str:
    """A stable key for ``order_id`` (and ``qualifiers``, e.g. ``"refund", 2``): ``order-<sha256 hex>``.

    The same arguments give the same key in every process; different arguments give different keys (the
    parts are length-prefixed, so ``("a", "bc")`` and ``("ab", "c")`` differ). The key is 70 characters,
    well under the server's 128, whatever the length of the order id, and does not reveal it.
    """
    parts = [str(order_id), *(str(q) for q in qualifiers)]
    if not parts[0]:
        raise ValueError("order_id must not be empty")
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return f"order-{digest.hexdigest()}"


def check_key(key: str) -> str:
    """``key`` if the server can take it (1 to 128 characters, printable ASCII without spaces at either end)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")
    if not key.isascii() or not key.isprintable() or key != key.strip():
        raise ValueError("an idempotency key is printable ASCII without leading or trailing spaces")
    return key
