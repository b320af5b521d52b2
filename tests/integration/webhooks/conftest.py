"""Webhook tests reuse the initialized-register fixture of the foundation tests."""

from tests.integration.foundation.conftest import api

__all__ = ["api"]
