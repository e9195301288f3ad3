"""The store: engines made from a URL, the SQLModel tables, schema creation and Alembic migrations, the
append-only guards, and the writes and reads of verdicts and reveals every layer shares. Imports only
`grader.core.text`.
"""
