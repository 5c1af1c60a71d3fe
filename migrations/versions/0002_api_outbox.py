"""API: webhook outbox and delivery log, SMS outbox, analytics index and hourly call counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:45:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Events are written by triggers in the same transaction as the change, so none is lost even when the
# change comes from a module that knows nothing about webhooks (dialogue, dialer).
TRIGGER_STATEMENTS = [s.strip() for s in """
CREATE FUNCTION webhook_ticket_created() RETURNS trigger AS $$
BEGIN
    INSERT INTO webhook_outbox (event_type, campaign_id, payload)
    VALUES ('ticket.created', NULL, to_jsonb(NEW));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION webhook_contact_finished() RETURNS trigger AS $$
BEGIN
    INSERT INTO webhook_outbox (event_type, campaign_id, payload)
    VALUES ('contact.finished', NEW.campaign_id, jsonb_build_object(
        'contact_id', NEW.id, 'campaign_id', NEW.campaign_id, 'phone', NEW.phone,
        'account_number', NEW.account_number, 'state', NEW.state, 'outcome', NEW.outcome,
        'last_result', NEW.last_result, 'attempts', NEW.attempts, 'call_id', NEW.last_call_id,
        'variables', NEW.variables));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER tickets_webhook AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION webhook_ticket_created();

CREATE TRIGGER campaign_contacts_webhook AFTER UPDATE OF state ON campaign_contacts
    FOR EACH ROW WHEN (NEW.state IN ('done', 'failed') AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION webhook_contact_finished();

CREATE FUNCTION call_wait_bucket(direction text, offered timestamptz, answered timestamptz) RETURNS text AS $$
    SELECT CASE WHEN direction <> 'inbound' OR offered IS NULL THEN ''
                WHEN answered IS NULL THEN 'unanswered'
                WHEN answered - offered <= interval '10 seconds' THEN 'le_10s'
                WHEN answered - offered <= interval '30 seconds' THEN 'le_30s'
                WHEN answered - offered <= interval '1 minute' THEN 'le_1m'
                WHEN answered - offered <= interval '5 minutes' THEN 'le_5m'
                WHEN answered - offered <= interval '10 minutes' THEN 'le_10m'
                ELSE 'gt_10m' END
$$ LANGUAGE sql IMMUTABLE;

CREATE FUNCTION call_stats_track() RETURNS trigger AS $$
BEGIN
    -- One statement, rows in key order: concurrent calls lock shared buckets in the same order.
    INSERT INTO call_stats_hourly AS h (hour, direction, scenario, outcome, wait_bucket, calls)
    SELECT k.hour, k.direction, k.scenario, k.outcome, k.wait_bucket, sum(k.delta)
    FROM (
        SELECT date_trunc('hour', OLD.started_at) AS hour, OLD.direction AS direction,
               coalesce(OLD.scenario, '') AS scenario, coalesce(OLD.outcome, '') AS outcome,
               call_wait_bucket(OLD.direction, OLD.offered_at, OLD.answered_at) AS wait_bucket, -1 AS delta
        WHERE TG_OP IN ('UPDATE', 'DELETE')
        UNION ALL
        SELECT date_trunc('hour', NEW.started_at), NEW.direction, coalesce(NEW.scenario, ''),
               coalesce(NEW.outcome, ''), call_wait_bucket(NEW.direction, NEW.offered_at, NEW.answered_at), 1
        WHERE TG_OP IN ('UPDATE', 'INSERT')
    ) k
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(k.delta) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (hour, direction, scenario, outcome, wait_bucket) DO UPDATE SET calls = h.calls + excluded.calls;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER calls_stats AFTER INSERT OR DELETE OR UPDATE OF started_at, direction, scenario, outcome,
    offered_at, answered_at ON calls
    FOR EACH ROW EXECUTE FUNCTION call_stats_track();

CREATE FUNCTION call_stats_reset() RETURNS trigger AS $$
BEGIN
    DELETE FROM call_stats_hourly;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER calls_stats_truncate AFTER TRUNCATE ON calls
    FOR EACH STATEMENT EXECUTE FUNCTION call_stats_reset();

INSERT INTO call_stats_hourly (hour, direction, scenario, outcome, wait_bucket, calls)
SELECT date_trunc('hour', started_at), direction, coalesce(scenario, ''), coalesce(outcome, ''),
       call_wait_bucket(direction, offered_at, answered_at), count(*)
FROM calls GROUP BY 1, 2, 3, 4, 5
""".split(";\n\n")]


def upgrade() -> None:
    op.create_table('webhook_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'skipped')", name=op.f('ck_webhook_outbox_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_webhook_outbox_event_id'))
    )
    op.create_index('ix_webhook_outbox_due', 'webhook_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('outbox_id', sa.BigInteger(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['webhook_outbox.id'], name=op.f('fk_webhook_deliveries_outbox_id_webhook_outbox'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    op.create_index(op.f('ix_webhook_deliveries_outbox_id'), 'webhook_deliveries', ['outbox_id'], unique=False)
    op.create_table('sms_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.BigInteger(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_response', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_sms_outbox_status')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_sms_outbox_task_id_tasks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox')),
    sa.UniqueConstraint('task_id', name=op.f('uq_sms_outbox_task_id'))
    )
    op.create_index('ix_sms_outbox_due', 'sms_outbox', ['status', 'next_attempt_at'], unique=False)
    # Analytics reads only these columns of a time range: an index-only scan over a covering index.
    op.execute(
        "CREATE INDEX ix_calls_started_covering ON calls (started_at) "
        "INCLUDE (direction, scenario, outcome, offered_at, answered_at)"
    )
    op.create_index('ix_tasks_kind_status', 'tasks', ['kind', 'status'], unique=False)
    # What an API creation request was: its hash (Idempotency-Key replays must match) and its row report.
    op.create_table('campaign_imports',
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_imports_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_campaign_imports'))
    )
    # Calls per hour, kept by a trigger on calls: the analytics summary of a month reads a few thousand rows.
    op.create_table('call_stats_hourly',
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('wait_bucket', sa.String(length=16), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'direction', 'scenario', 'outcome', 'wait_bucket', name=op.f('pk_call_stats_hourly'))
    )
    for statement in TRIGGER_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS calls_stats_truncate ON calls")
    op.execute("DROP FUNCTION IF EXISTS call_stats_reset()")
    op.execute("DROP TRIGGER IF EXISTS calls_stats ON calls")
    op.execute("DROP FUNCTION IF EXISTS call_stats_track()")
    op.execute("DROP FUNCTION IF EXISTS call_wait_bucket(text, timestamptz, timestamptz)")
    op.drop_table('call_stats_hourly')
    op.drop_table('campaign_imports')
    op.execute("DROP TRIGGER IF EXISTS campaign_contacts_webhook ON campaign_contacts")
    op.execute("DROP TRIGGER IF EXISTS tickets_webhook ON tickets")
    op.execute("DROP FUNCTION IF EXISTS webhook_contact_finished()")
    op.execute("DROP FUNCTION IF EXISTS webhook_ticket_created()")
    op.drop_index('ix_tasks_kind_status', table_name='tasks')
    op.execute("DROP INDEX IF EXISTS ix_calls_started_covering")
    op.drop_index('ix_sms_outbox_due', table_name='sms_outbox')
    op.drop_table('sms_outbox')
    op.drop_index(op.f('ix_webhook_deliveries_outbox_id'), table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhook_outbox_due', table_name='webhook_outbox')
    op.drop_table('webhook_outbox')
