"""Tables of the journal domain."""
