"""Dispatcher desk: who listened to a voice message, who closed a callback, QA reviews of calls, and the
attempt log of campaign contacts (written by a trigger, so the dialer stays unaware of it)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# The dialer marks a claimed contact 'dialing', then writes the attempt's result; every result it writes
# (busy, no_answer, answered, …) is one attempt. A contact that became done gets that outcome on its attempt.
TRIGGER_STATEMENTS = [
    s.strip()
    for s in """
CREATE FUNCTION campaign_attempt_log() RETURNS trigger AS $$
BEGIN
    IF NEW.last_result IS DISTINCT FROM OLD.last_result
       AND NEW.last_result IS NOT NULL AND NEW.last_result NOT IN ('dialing', 'not_placed') THEN
        INSERT INTO campaign_attempts (campaign_id, contact_id, attempt, result, call_id)
        VALUES (NEW.campaign_id, NEW.id, NEW.attempts, NEW.last_result, NEW.last_call_id);
    END IF;
    IF NEW.outcome IS DISTINCT FROM OLD.outcome AND NEW.outcome IS NOT NULL THEN
        UPDATE campaign_attempts SET outcome = NEW.outcome
         WHERE id = (SELECT max(id) FROM campaign_attempts WHERE contact_id = NEW.id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER campaign_contacts_attempts AFTER UPDATE OF last_result, outcome ON campaign_contacts
    FOR EACH ROW EXECUTE FUNCTION campaign_attempt_log();
""".split(";\n\n")
    if s.strip()
]


def upgrade() -> None:
    op.add_column("voice_messages", sa.Column("listened_at", TZ, nullable=True))
    op.add_column("voice_messages", sa.Column("listened_by", sa.Text(), nullable=True))
    op.add_column("callbacks", sa.Column("handled_at", TZ, nullable=True))
    op.add_column("callbacks", sa.Column("handled_by", sa.Text(), nullable=True))
    op.add_column("callbacks", sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "call_reviews",
        sa.Column("call_id", sa.UUID(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_call_reviews_score")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_reviews_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_reviews")),
    )
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.Column("at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_attempts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["campaign_contacts.id"],
            name=op.f("fk_campaign_attempts_contact_id_campaign_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attempts")),
    )
    op.create_index("ix_campaign_attempts_contact", "campaign_attempts", ["contact_id", "id"])
    op.create_index("ix_campaign_attempts_campaign", "campaign_attempts", ["campaign_id", "result"])
    for statement in TRIGGER_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER campaign_contacts_attempts ON campaign_contacts")
    op.execute("DROP FUNCTION campaign_attempt_log()")
    op.drop_index("ix_campaign_attempts_campaign", table_name="campaign_attempts")
    op.drop_index("ix_campaign_attempts_contact", table_name="campaign_attempts")
    op.drop_table("campaign_attempts")
    op.drop_table("call_reviews")
    op.drop_column("callbacks", "note")
    op.drop_column("callbacks", "handled_by")
    op.drop_column("callbacks", "handled_at")
    op.drop_column("voice_messages", "listened_by")
    op.drop_column("voice_messages", "listened_at")
