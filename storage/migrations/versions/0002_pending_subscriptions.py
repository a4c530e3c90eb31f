"""pending subscriptions: imported for e-mails that have no account yet

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", "service"),
    )
    with op.batch_alter_table("pending_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_subscriptions_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_subscriptions_email"))

    op.drop_table("pending_subscriptions")
