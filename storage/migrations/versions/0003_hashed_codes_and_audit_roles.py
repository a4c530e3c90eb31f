"""activation codes stored as keyed hashes; the audit trail records roles and assignees

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:30:00

Existing codes are hashed with HELPDESK_CODE_SECRET (the documented demo secret when it
is not set): run this migration with the secret the bot runs with. A downgrade cannot
give the codes back (only their hashes are kept): it leaves the hash in their place, so
codes must be imported again after one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of services.codes / storage.db as they were at this revision: a migration
# must keep giving the same result when the code moves on.
_DEFAULT_SECRET = "helpdesk-demo-code-secret"
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._/\\]+")


def _hash(secret: bytes, code: str) -> str:
    normalized = _SEPARATORS.sub("", code).upper()
    return hmac.new(secret, normalized.encode(), hashlib.sha256).hexdigest()


def _tail(code: str) -> str:
    normalized = _SEPARATORS.sub("", code).upper()
    shown = min(4, len(normalized) // 3)
    return normalized[-shown:] if shown else ""


codes = sa.table(
    "activation_codes",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("code_hash", sa.String),
    sa.column("code_tail", sa.String),
)


def upgrade() -> None:
    secret = (os.environ.get("HELPDESK_CODE_SECRET", "").strip() or _DEFAULT_SECRET).encode()
    with op.batch_alter_table("activation_codes") as batch_op:
        batch_op.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("code_tail", sa.String(length=4), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(codes.c.id, codes.c.code)).all()
    if rows:
        connection.execute(
            codes.update().where(codes.c.id == sa.bindparam("row_id")),
            [
                {
                    "row_id": row.id,
                    "code_hash": _hash(secret, row.code),
                    "code_tail": _tail(row.code),
                }
                for row in rows
            ],
        )
    with op.batch_alter_table("activation_codes") as batch_op:
        batch_op.alter_column("code_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("code_tail", existing_type=sa.String(length=4), nullable=False)
        batch_op.create_unique_constraint("uq_activation_codes_code_hash", ["code_hash"])
        batch_op.drop_column("code")

    with op.batch_alter_table("incident_events") as batch_op:
        batch_op.add_column(
            sa.Column("actor_role", sa.String(length=16), nullable=False, server_default="staff")
        )
        batch_op.add_column(sa.Column("from_assignee", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("to_assignee", sa.String(length=100), nullable=True))
    # Before this revision customers acted under their account's e-mail, staff by name.
    op.execute(
        "UPDATE incident_events SET actor_role = 'customer' WHERE actor = ("
        "SELECT accounts.email FROM incidents JOIN accounts ON accounts.id = incidents.account_id "
        "WHERE incidents.id = incident_events.incident_id)"
    )
    op.execute("UPDATE incident_events SET to_assignee = note WHERE kind = 'assigned'")


def downgrade() -> None:
    with op.batch_alter_table("incident_events") as batch_op:
        batch_op.drop_column("to_assignee")
        batch_op.drop_column("from_assignee")
        batch_op.drop_column("actor_role")
    with op.batch_alter_table("activation_codes") as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=64), nullable=True))
    op.execute("UPDATE activation_codes SET code = code_hash")
    with op.batch_alter_table("activation_codes") as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint("uq_activation_codes_code_hash", type_="unique")
        batch_op.drop_column("code_tail")
        batch_op.drop_column("code_hash")
        batch_op.create_unique_constraint("activation_codes_code_key", ["code"])
