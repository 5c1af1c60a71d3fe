"""office appointments: the service centre's schedule (slots) and bookings, one live booking per slot

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "office_slots",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("window", sa.String(length=32), nullable=False),
        sa.Column("closed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_office_slots_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_slots")),
        sa.UniqueConstraint("starts_at", "window", name=op.f("uq_office_slots_starts_at_window")),
    )
    op.create_index(op.f("ix_office_slots_starts_at"), "office_slots", ["starts_at"], unique=False)
    op.create_table(
        "office_appointments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("slot_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("reminded_at", TZ, nullable=True),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'done', 'missed')", name=op.f("ck_office_appointments_status")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_office_appointments_call_id_calls"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["office_slots.id"],
            name=op.f("fk_office_appointments_slot_id_office_slots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_appointments")),
    )
    op.create_index("ix_office_appointments_phone", "office_appointments", ["phone"], unique=False)
    op.create_index(
        "uq_office_appointments_slot_booked",
        "office_appointments",
        ["slot_id"],
        unique=True,
        postgresql_where=sa.text("status = 'booked'"),
    )


def downgrade() -> None:
    op.drop_index("uq_office_appointments_slot_booked", table_name="office_appointments")
    op.drop_index("ix_office_appointments_phone", table_name="office_appointments")
    op.drop_table("office_appointments")
    op.drop_index(op.f("ix_office_slots_starts_at"), table_name="office_slots")
    op.drop_table("office_slots")
