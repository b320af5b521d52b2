"""The vsdc domain: the V-SDC face and its delivery to aTAX (``vsdc.atax``)."""
