"""Tables of the vsdc domain."""
