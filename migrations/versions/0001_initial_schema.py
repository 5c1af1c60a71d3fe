"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:19:15.692089
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Numbers the bot gives to new requests; imported numbers may be anything, collisions are skipped.
    op.execute("CREATE SEQUENCE ticket_number_seq START WITH 24001")
    op.create_table('accounts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('street', sa.Text(), nullable=True),
    sa.Column('house', sa.String(length=16), nullable=True),
    sa.Column('building', sa.String(length=16), nullable=True),
    sa.Column('flat', sa.String(length=16), nullable=True),
    sa.Column('owner', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('debt', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('debt_period', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('number', name=op.f('uq_accounts_number'))
    )
    op.create_index(op.f('ix_accounts_street'), 'accounts', ['street'], unique=False)
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'staff', 'ops', 'supervisor')", name=op.f('ck_api_keys_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.Text(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index('ix_audit_log_object', 'audit_log', ['object_type', 'object_id'], unique=False)
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('max_concurrent', sa.Integer(), nullable=False),
    sa.Column('calls_per_second', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('webhook_url', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'running', 'paused', 'cancelled', 'finished')", name=op.f('ck_campaigns_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_campaigns_idempotency_key'))
    )
    op.create_table('outages',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('house', sa.String(length=16), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outages'))
    )
    op.create_table('account_phones',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_phones_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_phones')),
    sa.UniqueConstraint('account_id', 'phone', name=op.f('uq_account_phones_account_id_phone'))
    )
    op.create_index(op.f('ix_account_phones_phone'), 'account_phones', ['phone'], unique=False)
    op.create_table('campaign_contacts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('account_number', sa.String(length=32), nullable=True),
    sa.Column('variables', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('last_call_id', sa.UUID(), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'in_progress', 'done', 'failed', 'cancelled', 'blocked')", name=op.f('ck_campaign_contacts_state')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_contacts_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_contacts'))
    )
    op.create_index('ix_campaign_contacts_due', 'campaign_contacts', ['campaign_id', 'state', 'next_attempt_at'], unique=False)
    op.create_index('ix_campaign_contacts_phone', 'campaign_contacts', ['phone'], unique=False)
    op.create_table('meters',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('meter_id', sa.String(length=64), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('serial', sa.String(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('last_date', sa.Date(), nullable=True),
    sa.Column('verification_due', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("resource IN ('cold_water', 'hot_water', 'electricity', 'electricity_t1', 'electricity_t2', 'electricity_t3', 'gas', 'heat')", name=op.f('ck_meters_resource')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_meters_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    sa.UniqueConstraint('account_id', 'meter_id', name=op.f('uq_meters_account_id_meter_id'))
    )
    op.create_table('calls',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('dialed', sa.String(length=32), nullable=True),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('contact_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recording_path', sa.Text(), nullable=True),
    sa.Column('recording_duration', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('variables', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('meta', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f('ck_calls_direction')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_calls_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_calls_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['campaign_contacts.id'], name=op.f('fk_calls_contact_id_campaign_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    op.create_index('ix_calls_account_started', 'calls', ['account_id', 'started_at'], unique=False)
    op.create_index('ix_calls_campaign', 'calls', ['campaign_id'], unique=False)
    op.create_index('ix_calls_phone_started', 'calls', ['phone', 'started_at'], unique=False)
    op.create_index('ix_calls_scenario_outcome_started', 'calls', ['scenario', 'outcome', 'started_at'], unique=False)
    op.create_index('ix_calls_started_at', 'calls', ['started_at'], unique=False)
    op.create_table('call_turns',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('call_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=True),
    sa.Column('start_ms', sa.Integer(), nullable=True),
    sa.Column('end_ms', sa.Integer(), nullable=True),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('entities', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("speaker IN ('bot', 'caller')", name=op.f('ck_call_turns_speaker')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_turns_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_turns')),
    sa.UniqueConstraint('call_id', 'seq', name=op.f('uq_call_turns_call_id_seq'))
    )
    op.create_table('callbacks',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=True),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('source_call_id', sa.UUID(), nullable=True),
    sa.Column('missed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('placed_call_id', sa.UUID(), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("reason IN ('missed', 'abandoned', 'overflow', 'requested')", name=op.f('ck_callbacks_reason')),
    sa.CheckConstraint("status IN ('pending', 'in_progress', 'done', 'failed', 'cancelled')", name=op.f('ck_callbacks_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_callbacks_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['placed_call_id'], ['calls.id'], name=op.f('fk_callbacks_placed_call_id_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_call_id'], ['calls.id'], name=op.f('fk_callbacks_source_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    op.create_index('ix_callbacks_status_due', 'callbacks', ['status', 'due_at'], unique=False)
    op.create_table('do_not_call',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('source_call_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['source_call_id'], ['calls.id'], name=op.f('fk_do_not_call_source_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_do_not_call'))
    )
    op.create_table('nps_answers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=True),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 0 AND 10', name=op.f('ck_nps_answers_score')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_nps_answers_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nps_answers'))
    )
    op.create_index(op.f('ix_nps_answers_ticket_number'), 'nps_answers', ['ticket_number'], unique=False)
    op.create_table('promises',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('promised_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'kept', 'broken')", name=op.f('ck_promises_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_promises_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_promises_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises'))
    )
    op.create_index(op.f('ix_promises_account_id'), 'promises', ['account_id'], unique=False)
    op.create_index('ix_promises_status_date', 'promises', ['status', 'promised_date'], unique=False)
    op.create_table('readings',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('meter_pk', sa.BigInteger(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('accepted', 'suspicious')", name=op.f('ck_readings_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_readings_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_readings_call_id_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meter_pk'], ['meters.id'], name=op.f('fk_readings_meter_pk_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readings'))
    )
    op.create_index('ix_readings_account_period', 'readings', ['account_id', 'period'], unique=False)
    op.create_index('ix_readings_meter_period', 'readings', ['meter_pk', 'period'], unique=False)
    op.create_table('tasks',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assigned_to', sa.Text(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_tasks_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_tasks_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_status_created', 'tasks', ['status', 'created_at'], unique=False)
    op.create_table('tickets',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responsible', sa.Text(), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('contact_name', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("priority IN ('emergency', 'routine')", name=op.f('ck_tickets_priority')),
    sa.CheckConstraint("status IN ('new', 'in_progress', 'done', 'cancelled')", name=op.f('ck_tickets_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_tickets_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_tickets_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('number', name=op.f('uq_tickets_number'))
    )
    op.create_index('ix_tickets_created_at', 'tickets', ['created_at'], unique=False)
    op.create_index('ix_tickets_status_due', 'tickets', ['status', 'due_at'], unique=False)
    op.create_table('visits',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('visit_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('specialist', sa.Text(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('new_slot', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'confirmed', 'rescheduled', 'declined', 'confirmed_by_proxy')", name=op.f('ck_visits_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_visits_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_visits_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_visits_visit_id'))
    )
    op.create_table('voice_messages',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('recording_path', sa.Text(), nullable=True),
    sa.Column('duration', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_voice_messages_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_voice_messages_call_id_calls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_messages'))
    )
    op.create_index('ix_voice_messages_review', 'voice_messages', ['reviewed_at', 'review_due_at'], unique=False)
    op.create_table('ticket_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('ticket_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=True),
    sa.Column('call_id', sa.UUID(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_ticket_events_call_id_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    op.create_index(op.f('ix_ticket_events_ticket_id'), 'ticket_events', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ticket_events_ticket_id'), table_name='ticket_events')
    op.drop_table('ticket_events')
    op.drop_index('ix_voice_messages_review', table_name='voice_messages')
    op.drop_table('voice_messages')
    op.drop_table('visits')
    op.drop_index('ix_tickets_status_due', table_name='tickets')
    op.drop_index('ix_tickets_created_at', table_name='tickets')
    op.drop_table('tickets')
    op.drop_index('ix_tasks_status_created', table_name='tasks')
    op.drop_table('tasks')
    op.drop_index('ix_readings_meter_period', table_name='readings')
    op.drop_index('ix_readings_account_period', table_name='readings')
    op.drop_table('readings')
    op.drop_index('ix_promises_status_date', table_name='promises')
    op.drop_index(op.f('ix_promises_account_id'), table_name='promises')
    op.drop_table('promises')
    op.drop_index(op.f('ix_nps_answers_ticket_number'), table_name='nps_answers')
    op.drop_table('nps_answers')
    op.drop_table('do_not_call')
    op.drop_index('ix_callbacks_status_due', table_name='callbacks')
    op.drop_table('callbacks')
    op.drop_table('call_turns')
    op.drop_index('ix_calls_started_at', table_name='calls')
    op.drop_index('ix_calls_scenario_outcome_started', table_name='calls')
    op.drop_index('ix_calls_phone_started', table_name='calls')
    op.drop_index('ix_calls_campaign', table_name='calls')
    op.drop_index('ix_calls_account_started', table_name='calls')
    op.drop_table('calls')
    op.drop_table('meters')
    op.drop_index('ix_campaign_contacts_phone', table_name='campaign_contacts')
    op.drop_index('ix_campaign_contacts_due', table_name='campaign_contacts')
    op.drop_table('campaign_contacts')
    op.drop_index(op.f('ix_account_phones_phone'), table_name='account_phones')
    op.drop_table('account_phones')
    op.drop_table('outages')
    op.drop_table('campaigns')
    op.drop_index('ix_audit_log_object', table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('api_keys')
    op.drop_index(op.f('ix_accounts_street'), table_name='accounts')
    op.drop_table('accounts')
    op.execute("DROP SEQUENCE ticket_number_seq")
