"""The pure core: arithmetic, rules and cryptography with no I/O.

Nothing under ``openvcr.core`` may import web frameworks, database drivers, HTTP clients or read the
environment; ``tests/unit/test_core_purity.py`` enforces this.
"""
