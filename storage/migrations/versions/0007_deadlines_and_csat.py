"""deadlines and satisfaction: the deadline alert, the jobs' leases, the survey and its rating

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-29 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "sla_alerted_at",
    "sla_notice_until",
    "csat_asked_at",
    "csat_survey_until",
    "csat_rating",
    "csat_comment",
    "csat_rated_at",
)


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_alerted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("sla_notice_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("csat_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("csat_survey_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("csat_rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("csat_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("csat_rated_at", sa.DateTime(timezone=True), nullable=True))
    # Incidents resolved before surveys existed are not surveyed: a roll-out must not send
    # every past customer a survey at once. They count as asked when the migration ran.
    op.execute(
        sa.text(
            "UPDATE incidents SET csat_asked_at = CURRENT_TIMESTAMP "
            "WHERE status IN ('resolved', 'closed')"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
