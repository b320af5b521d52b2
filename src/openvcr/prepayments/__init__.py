"""The prepayments domain."""
