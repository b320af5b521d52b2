"""The tax authority: the SrcGateway port, the SRC e-HDM client, the sandbox simulator.

(aTAX, the authority of the V-SDC model, is in ``openvcr.vsdc.atax``: it depends on the V-SDC.)
"""
