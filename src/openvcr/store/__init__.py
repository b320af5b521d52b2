"""Storage: engine and transactions, table definitions, Alembic migrations."""
