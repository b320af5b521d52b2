"""OpenVCR: a self-hosted virtual cash register for Armenia's fiscal regime."""

__version__ = "0.1.0"
