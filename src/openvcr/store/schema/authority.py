"""Tables of the authority domain.

``src_requests``: every seq-carrying request to SRC, persisted (with its reserved ``seq``) in a committed
transaction before it is sent, then updated with its outcome. ``document_key`` is unique: one fiscal
document → at most one registered receipt.

States: ``pending`` (persisted, being sent, or the process died while sending) → ``done`` (registered;
``response`` holds SRC's result) | ``rejected`` (SRC refused: ``error_code`` / ``error_message``) |
``failed`` (certainly nothing registered: not sent, or SRC said so, or resolution proved it) |
``in_doubt`` (the answer was lost) → ``done`` | ``failed`` | ``operator`` (automatic resolution impossible:
an operator decides).
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from openvcr.store.schema.base import metadata

src_requests = Table(
    "src_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("document_key", String(200), nullable=True, unique=True),
    Column("method", String(40), nullable=False),
    Column("seq", BigInteger, nullable=True),
    Column("body", Text, nullable=False),  # the JSON body as sent (seq included)
    Column("request_hash", String(64), nullable=False),  # the body without seq: same key, same request
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Column("receipt_id", BigInteger, nullable=True),
    Column("response", Text, nullable=True),  # SRC's result (JSON) when done
    Column("error_code", Integer, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("note", Text, nullable=True),  # how an in-doubt request was resolved, or why it needs an operator
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
)
Index("ix_src_requests_register_state", src_requests.c.register_id, src_requests.c.state)
Index("ix_src_requests_register_receipt", src_requests.c.register_id, src_requests.c.receipt_id)
