"""calls.contact_id index: finishing a contact and deleting a campaign look calls up by contact

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_contact", "calls", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_calls_contact", table_name="calls")
