"""aTAX: the tax authority of the V-SDC model — the outbox deliverers of V-SDC devices and signed invoices,
and the sandbox receiver.

It lives in ``vsdc`` because it reads the V-SDC's devices and invoices and verifies them with the V-SDC's
internal-data format: it depends on ``vsdc``, never the other way round through another package.
"""
