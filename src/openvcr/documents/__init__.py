"""The fiscal document engine: one table, one state machine, one way from draft to journal.

See ``openvcr.documents.engine`` for the rules.
"""
