"""The SRC e-HDM sandbox: a faithful simulator of the tax authority's web service (see ``simulator``)."""
