"""Tables of the authority domain."""
