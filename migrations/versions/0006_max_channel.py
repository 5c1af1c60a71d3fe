"""MAX channel: residents and their shared phones, outages with several buildings posted to house chats
(posts kept to edit and close them), and the company card

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("outages", sa.Column("title", sa.Text(), server_default="", nullable=False))
    op.add_column("outages", sa.Column("ended_at", TZ, nullable=True))
    op.add_column("outages", sa.Column("created_by", sa.String(length=64), nullable=True))
    op.add_column("outages", sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False))
    op.create_index("ix_outages_period", "outages", ["starts_at", "ends_at"], unique=False)
    op.create_table(
        "outage_buildings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("outage_id", sa.BigInteger(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("house", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_outage_buildings_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_buildings")),
    )
    op.create_index(op.f("ix_outage_buildings_outage_id"), "outage_buildings", ["outage_id"], unique=False)
    op.execute(
        "INSERT INTO outage_buildings (outage_id, street, house) SELECT id, street, house FROM outages"
    )
    op.drop_column("outages", "street")
    op.drop_column("outages", "house")
    op.create_table(
        "house_chats",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("house", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house_chats")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_house_chats_chat_id")),
    )
    op.create_table(
        "outage_posts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("outage_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("state IN ('posted', 'closed', 'failed')", name=op.f("ck_outage_posts_state")),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_outage_posts_outage_id_outages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_posts")),
        sa.UniqueConstraint("outage_id", "chat_id", name=op.f("uq_outage_posts_outage_id_chat_id")),
    )
    op.create_table(
        "max_users",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_max_users")),
    )
    op.create_index(op.f("ix_max_users_phone"), "max_users", ["phone"], unique=False)
    op.create_table(
        "company_card",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("office_hours", sa.Text(), nullable=False),
        sa.Column("dispatcher_phone", sa.String(length=32), nullable=False),
        sa.Column("emergency_phone", sa.String(length=32), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_company_card_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_card")),
    )


def downgrade() -> None:
    op.drop_table("company_card")
    op.drop_index(op.f("ix_max_users_phone"), table_name="max_users")
    op.drop_table("max_users")
    op.drop_table("outage_posts")
    op.drop_table("house_chats")
    op.add_column("outages", sa.Column("street", sa.Text(), nullable=True))
    op.add_column("outages", sa.Column("house", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE outages o SET street = b.street, house = b.house FROM "
        "(SELECT DISTINCT ON (outage_id) outage_id, street, house FROM outage_buildings ORDER BY outage_id, id) b "
        "WHERE b.outage_id = o.id"
    )
    op.execute("UPDATE outages SET street = '' WHERE street IS NULL")
    op.alter_column("outages", "street", nullable=False)
    op.drop_index(op.f("ix_outage_buildings_outage_id"), table_name="outage_buildings")
    op.drop_table("outage_buildings")
    op.drop_index("ix_outages_period", table_name="outages")
    for column in ("updated_at", "created_by", "ended_at", "title"):
        op.drop_column("outages", column)
