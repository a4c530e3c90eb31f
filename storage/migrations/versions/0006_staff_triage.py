"""staff triage: each incident's card in the triage channel (its outbox), and where an
incident event's message lives in Slack

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("card_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("card_synced_event", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("card_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_incidents_card_ts", ["card_ts"], unique=False)
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("slack_ts", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_incident_events_slack_ts", ["slack_ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_events_slack_ts")
        batch_op.drop_column("slack_ts")
        batch_op.drop_column("slack_channel")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_card_ts")
        batch_op.drop_column("card_updated_at")
        batch_op.drop_column("card_synced_event")
        batch_op.drop_column("card_ts")
        batch_op.drop_column("card_channel")
