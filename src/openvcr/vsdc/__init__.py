"""The vsdc domain."""
