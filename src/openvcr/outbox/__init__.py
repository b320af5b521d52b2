"""A transactional outbox: messages written with the business data, delivered after commit by a worker.

Rules:
- ``repository.enqueue(conn, kind, key, payload)`` runs inside the caller's transaction: the message exists
  exactly when the business data exists. ``key`` is unique (the idempotency key the receiver sees); enqueueing
  the same key again returns the existing message and adds nothing.
- A worker delivers due messages after commit, oldest first, through the deliverer registered for the
  message's ``kind`` (the outbox knows no kind: whoever builds the worker registers the deliverers). A message
  is claimed with a lease (``locked_until``) so concurrent workers do not deliver it at the same time; an
  expired lease (a worker that died) makes it due again.
- Every try is one ``outbox_attempts`` row, written *before* the delivery starts and completed after it.
- ``repository.requeue`` makes a delivered or failed message due again (a replay): same key, its attempts
  numbered on.
- A worker's ``on_finished(conn, message, outcome, error)`` runs in the transaction that records a message
  ``delivered`` or ``failed``: what it writes (a webhook event telling that end) commits exactly with it.
- A deliverer raises ``DeliveryRetryable`` (outage, timeout, 5xx: tried again after an exponential backoff
  ``base × 2^(attempt−1)``, capped, set per worker: each kind that needs its own has its own worker) or
  ``DeliveryRejected`` (the receiver refused it for good: ``failed``).
  Any other exception counts as retryable.
- Exactly once from the receiver's point of view: the receiver deduplicates on the key, so a delivery whose
  answer was lost is repeated with the same key and acknowledged without a second effect.
- A receiver that cannot deduplicate (an SMTP server, a person's mailbox) gets *at most* once: its deliverer
  records its point of no return (``repository.mark_handed_over``, own transaction) just before the
  irrevocable step, and an attempt found ``handed_over`` and never finished (its process stopped while it
  waited for the answer) is not repeated: the next attempt fails the message as in doubt
  (``repository.handed_over_before``). The window of doubt is from that record to the receiver's answer.

- A receiver that confirms later (an SMSC and its delivery receipts) gives each part it accepts an id of its
  own: the deliverer records it at once (``repository.record_acceptance``, own transaction; a later attempt
  skips that part) and returns ``AWAITING_CONFIRMATION``: the message is ``sent``. The receiver's receipt,
  found by that id (``repository.confirm``), makes it ``delivered`` (every part) or ``failed`` (a part).

Modules: ``models`` (types and errors), ``repository`` (SQL), ``worker`` (delivery), ``cli``
(``openvcr outbox …``).
"""
