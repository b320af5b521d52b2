"""Signed webhooks: endpoints per business entity, events written to the outbox in the transaction of what they
tell, deliveries signed with HMAC-SHA256, retried with backoff, recorded and replayable.

Modules: ``models`` (event names, types), ``repository`` (SQL), ``service`` (``emit`` and the endpoints' use
cases), ``schemas`` and ``api`` (``/api/v1/webhooks``), ``delivery`` (the deliverer and its worker), ``cli``
(``openvcr webhooks …``). Guide: ``docs/webhooks.md``.
"""
