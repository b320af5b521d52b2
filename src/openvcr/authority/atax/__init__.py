"""aTAX: the tax authority of the V-SDC model — the delivery client and the sandbox receiver."""
