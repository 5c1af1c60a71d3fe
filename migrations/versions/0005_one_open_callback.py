"""One open callback per phone, held by the database: a partial unique index on callbacks(phone) over the
open states. Older duplicates (possible before) are folded into the earliest-due one first.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "status IN ('pending', 'in_progress')"


def upgrade() -> None:
    op.execute(
        f"""
        UPDATE callbacks SET status = 'cancelled', note = 'merged into the earlier open callback'
        WHERE id IN (
            SELECT id FROM (
                SELECT id, row_number() OVER (PARTITION BY phone ORDER BY due_at, id) AS n
                FROM callbacks WHERE {OPEN}
            ) ranked WHERE n > 1
        )
        """
    )
    op.execute(f"CREATE UNIQUE INDEX ux_callbacks_open_phone ON callbacks (phone) WHERE {OPEN}")


def downgrade() -> None:
    op.execute("DROP INDEX ux_callbacks_open_phone")
