"""journal_applied: keys of local journal entries already written, so a replay applies each exactly once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_applied",
        sa.Column("key", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("op", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_journal_applied_at", "journal_applied", ["applied_at"])


def downgrade() -> None:
    op.drop_index("ix_journal_applied_at", table_name="journal_applied")
    op.drop_table("journal_applied")
