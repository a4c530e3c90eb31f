"""Persistence: SQLAlchemy models, engine and session factory, Alembic migrations.

Nothing here knows Slack, the conversation layer or the knowledge base.
"""
