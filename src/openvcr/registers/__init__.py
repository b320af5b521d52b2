"""Registers (VCRs), their API keys, the bootstrap of a sandbox register, and the fiscal journal."""
