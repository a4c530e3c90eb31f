"""deadlines, satisfaction, incidents on products: the deadline alert, the jobs' leases,
the survey and its rating; an incident on a product's DAS service (no subscription, and a
first-response deadline only when the catalogue gives one for that service)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
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
        batch_op.add_column(sa.Column("product_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("activated_service_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_incidents_product_id", "registered_products", ["product_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_incidents_activated_service_id",
            "activated_services",
            ["activated_service_id"],
            ["id"],
        )
        batch_op.alter_column("subscription_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("subscription_type", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column(
            "first_response_due", existing_type=sa.DateTime(timezone=True), nullable=True
        )
    with op.batch_alter_table("model_das_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_hours", sa.Integer(), nullable=True))
    # Incidents resolved before surveys existed are not surveyed: a roll-out must not send
    # every past customer a survey at once. They count as asked when the migration ran.
    op.execute(
        sa.text(
            "UPDATE incidents SET csat_asked_at = CURRENT_TIMESTAMP "
            "WHERE status IN ('resolved', 'closed')"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("model_das_services", schema=None) as batch_op:
        batch_op.drop_column("first_response_hours")
    # Incidents on products have no subscription: they cannot survive the downgrade.
    op.execute(
        sa.text(
            "DELETE FROM incident_events WHERE incident_id IN "
            "(SELECT id FROM incidents WHERE subscription_id IS NULL)"
        )
    )
    op.execute(sa.text("DELETE FROM incidents WHERE subscription_id IS NULL"))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.alter_column(
            "first_response_due", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("subscription_type", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("subscription_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("fk_incidents_activated_service_id", type_="foreignkey")
        batch_op.drop_constraint("fk_incidents_product_id", type_="foreignkey")
        batch_op.drop_column("activated_service_id")
        batch_op.drop_column("product_id")
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
