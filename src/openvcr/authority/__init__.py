"""The tax authority: the SrcGateway port, the SRC e-HDM client, the sandbox simulator, aTAX delivery."""
