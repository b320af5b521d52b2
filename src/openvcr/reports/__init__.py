"""X and Z shift reports (journal-only documents) and the cursor lists of fiscal documents for integrators."""
