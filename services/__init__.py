"""Domain services: the support rules of docs/design.md, over a caller-owned SQLAlchemy session.

Each function takes the session first and raises a `services.errors.Refusal` subclass when
a rule refuses; callers own the transaction (`with session_factory.begin() as session:`).
"""
