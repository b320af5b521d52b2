"""The receipts domain."""
