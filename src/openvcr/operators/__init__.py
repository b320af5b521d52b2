"""The operator API of a hosting operator: tokens, onboarding businesses and registers over HTTP."""
