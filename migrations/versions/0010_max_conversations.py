"""max_conversations: a MAX resident's open conversation kept between messages, so a restart continues it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "max_conversations",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("call_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("state", postgresql.JSONB(), nullable=True),
        sa.Column("last_mid", sa.Text(), nullable=True),
        sa.Column("last_text", sa.Text(), nullable=True),
        sa.Column("recent", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_max_conversations_call", "max_conversations", ["call_id"])
    op.create_index("ix_max_conversations_seen", "max_conversations", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_max_conversations_seen", table_name="max_conversations")
    op.drop_index("ix_max_conversations_call", table_name="max_conversations")
    op.drop_table("max_conversations")
