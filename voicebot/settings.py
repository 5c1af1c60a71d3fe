"""The one settings object. Every knob of the service is read here from the environment.

`DATABASE_URL` is read without a prefix (the convention of hosting platforms); everything else is
`VOICEBOT_<FIELD NAME IN UPPER CASE>`. `docs/configuration.md` lists every field; a test keeps the two
in step, so a new field must be documented there.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The scenario every inbound call starts in unless VOICEBOT_INBOUND_SCENARIOS maps its number elsewhere.
INBOUND_SCENARIO = "inbound_router"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOICEBOT_", extra="ignore", populate_by_name=True)

    # --- storage -------------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "VOICEBOT_DATABASE_URL"),
        description="PostgreSQL URL (postgresql://user:pass@host:port/db). Empty: start the embedded server.",
    )
    data_dir: Path = Field(default=Path("./var"), description="Embedded database, caches, recordings.")
    db_pool_size: int = Field(default=10, description="Connections kept open per process.")
    auto_migrate: bool = Field(default=True, description="Apply pending migrations when a command starts.")

    # --- HTTP ----------------------------------------------------------------------------------
    http_host: str = Field(default="0.0.0.0", description="Address the HTTP API and web UI listen on.")
    http_port: int = Field(default=8000, description="Port of the HTTP API and web UI.")

    # --- company and dialogue ---------------------------------------------------------------------
    company_name: str = Field(
        default="Уютный дом", description="Company name the bot introduces itself with."
    )
    default_timezone: str = Field(default="Europe/Moscow", description="IANA zone for residents without one.")
    scenarios_dir: Path = Field(default=PROJECT_ROOT / "scenarios", description="Folder of scenario folders.")
    readings_window_start_day: int = Field(default=1, description="First day of month readings are taken.")
    readings_window_end_day: int = Field(default=25, description="Last day of month readings count for it.")
    verification_reminder_months: int = Field(
        default=6, description="Remind of meter verification due within this many months."
    )
    duty_dispatcher: str | None = Field(
        default=None,
        description="Extension/queue of the duty dispatcher for emergency transfers; empty: none.",
    )
    operator_queue: str | None = Field(
        default=None, description="Extension/queue of human operators for transfers; empty: none."
    )
    transfer_wait_seconds: int = Field(
        default=60,
        ge=5,
        le=540,
        description="How long a caller handed to operators/the dispatcher hears ringing before being offered a "
        "voice message and a callback (inside the 10-minute promise).",
    )
    ticket_categories_file: Path | None = Field(
        default=None, description="YAML overriding the ticket category table (deadlines, responsible)."
    )

    # --- NLU -----------------------------------------------------------------------------------
    nlu: Literal["embedded", "rasa"] = Field(default="embedded", description="Intent/entity engine.")
    rasa_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("RASA_URL", "VOICEBOT_RASA_URL"),
        description="Rasa server base URL when VOICEBOT_NLU=rasa.",
    )
    nlu_threshold: float = Field(
        default=0.45, description="Intent confidence below this is 'not understood'."
    )
    nlu_cache_dir: Path | None = Field(
        default=None,
        description=(
            "Where the trained intent classifier is kept, keyed by a hash of the training data. "
            "Empty: $XDG_CACHE_HOME/voicebot/nlu (~/.cache/voicebot/nlu)."
        ),
    )

    # --- telephony -----------------------------------------------------------------------------
    audiosocket_host: str = Field(default="0.0.0.0", description="AudioSocket listen address.")
    audiosocket_port: int = Field(default=9092, description="AudioSocket listen port.")
    audiosocket_allowed_networks: str = Field(
        default="127.0.0.1/32,::1/128",
        description="Comma-separated CIDRs allowed to open AudioSocket calls (the AMI host is always added).",
    )
    audiosocket_unknown_uuid: Literal["reject", "inbound"] = Field(
        default="reject",
        description="An AudioSocket UUID nobody announced (FastAGI/AMI): reject it, or run it as an "
        "anonymous inbound call (a lab without FastAGI only).",
    )
    fastagi_host: str = Field(default="0.0.0.0", description="FastAGI listen address.")
    fastagi_port: int = Field(default=4573, description="FastAGI listen port.")
    fastagi_allowed_networks: str = Field(
        default="127.0.0.1/32,::1/128",
        description="Comma-separated CIDRs allowed to open FastAGI sessions (the AMI host is always added).",
    )
    agi_secret: str = Field(
        default="",
        description="Shared secret the dialplan passes to FastAGI as the argument secret=… "
        "(VOICEBOT_AGI_SECRET in telephony/voicebot_globals.conf); required outside development mode.",
    )
    ami_host: str = Field(default="127.0.0.1", description="Asterisk Manager Interface host.")
    ami_port: int = Field(default=5038, description="Asterisk Manager Interface port.")
    ami_username: str = Field(default="voicebot", description="AMI user.")
    ami_secret: str = Field(default="", description="AMI password (never logged).")
    max_dialogues: int = Field(default=20, description="Concurrent dialogues this process accepts.")
    asterisk_sounds_dir: Path = Field(
        default=Path("/var/lib/asterisk/sounds/ru"),
        description="Asterisk's sounds folder for Russian as this machine sees it; the dialplan's own prompts "
        "go to its voicebot/ subfolder (`voicebot telephony sounds`, checked by `voicebot doctor`).",
    )

    # --- speech --------------------------------------------------------------------------------
    asr: Literal["vosk", "vosk-server"] = Field(default="vosk", description="Speech recogniser engine.")
    vosk_model_path: Path | None = Field(
        default=None, description="Vosk model folder; empty: models/vosk-model-small-ru if present."
    )
    vosk_server_url: str = Field(default="ws://127.0.0.1:2700", description="vosk-server WebSocket URL.")
    asr_threads: int = Field(default=2, description="Threads decoding speech (one recogniser per core).")
    tts: Literal["auto", "silero", "espeak", "recorded"] = Field(
        default="auto",
        description="Speech synthesiser; auto: Silero if its model is present, else espeak-ng.",
    )
    tts_voice: str = Field(default="ru", description="Voice name of the chosen engine.")
    tts_rate: int = Field(default=160, description="Speaking rate (espeak-ng words per minute).")
    prompts_dir: Path | None = Field(default=None, description="Recorded prompts: one WAV per prompt key.")
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Downloaded speech models.")
    recordings_dir: Path | None = Field(
        default=None, description="Call recordings; empty: DATA_DIR/recordings."
    )
    recordings_min_free_mb: int = Field(
        default=500, description="Below this much free space (MB) new calls are not recorded (calls go on)."
    )
    recording_retention_days: int = Field(
        default=3 * 365, description="Recordings older than this are deleted."
    )

    # --- campaigns, callbacks, SLA (telephony issue) ------------------------------------------------
    dialer_enabled: bool = Field(
        default=True, description="Run the campaign dialer, callback queue and FastAGI router in `serve`."
    )
    dialer_channel: str = Field(
        default="PJSIP/{number}@voicebot-trunk",
        description="Originate dial string; {number} is the phone without '+', {phone} the E.164 form.",
    )
    dialer_caller_id: str | None = Field(default=None, description="Caller id shown on outbound calls.")
    dialer_ring_seconds: float = Field(default=30.0, description="How long an outbound call may ring.")
    dialer_max_calls: int = Field(
        default=20, description="Outbound calls (callbacks and campaigns) this process places at once."
    )
    dialer_lease_seconds: float = Field(
        default=90.0, description="Lease on claimed work; a crashed process's work is taken over after it."
    )
    dialer_poll_seconds: float = Field(default=1.0, description="How often the dialer looks for due work.")
    audiosocket_advertise: str | None = Field(
        default=None,
        description="host:port at which Asterisk reaches THIS process's AudioSocket; set on each call it routes "
        "or dials so the media comes back here (several processes). Empty: the dialplan's VOICEBOT_AUDIOSOCKET.",
    )
    inbound_scenarios: str = Field(
        default="",
        description="Dialled number → scenario, e.g. '74951234567=request_intake,100=meter_readings'; "
        "other numbers: inbound_router.",
    )
    callback_delay_seconds: int = Field(
        default=60, description="A missed, abandoned or overflowed call is called back after this (≤ 600 s)."
    )
    callback_scenario: str = Field(default=INBOUND_SCENARIO, description="Scenario a call back runs.")
    callback_max_attempts: int = Field(default=3, description="Call back attempts before giving up.")
    callback_retry_seconds: int = Field(default=120, description="Delay between call back attempts.")
    callback_max_per_hour: int = Field(
        default=3, ge=0, description="Most call backs queued to one phone number per hour (toll-fraud cap)."
    )

    # --- HTTP API, webhooks, SMS (API issue) -----------------------------------------------------------
    api_max_body_bytes: int = Field(
        default=1_048_576, description="Largest JSON request body the API accepts (bytes); larger: 413."
    )
    api_max_upload_bytes: int = Field(
        default=20_971_520, description="Largest CSV upload (campaign contacts) in bytes; larger: 413."
    )
    api_max_contacts: int = Field(
        default=100_000, description="Most contacts one campaign may be created with."
    )
    api_auth_max_failures: int = Field(
        default=10, description="Failed API key checks from one address before it gets 429 for a while."
    )
    api_auth_block_seconds: int = Field(
        default=60, description="Window of counted auth failures and length of the block that follows (s)."
    )
    simulation_idle_seconds: int = Field(
        default=900, description="A simulation nobody talks to for this long is closed (seconds)."
    )
    simulation_max: int = Field(default=200, description="Most live simulations kept in memory at once.")
    simulation_max_per_key: int = Field(
        default=10,
        ge=1,
        description="Most live simulations one key or UI user may hold (the rest stay for others).",
    )
    webhook_url: str | None = Field(
        default=None, description="Global webhook receiver for events of campaigns without their own URL."
    )
    webhook_secret: str = Field(
        default="", description="HMAC-SHA256 key signing webhook events; empty: events wait undelivered."
    )
    webhook_timeout: float = Field(default=10.0, description="Seconds a webhook receiver has to answer.")
    webhook_allow_private: bool = Field(
        default=False,
        description="Let campaign webhook URLs point at private/loopback addresses (off: SSRF protection).",
    )
    webhook_max_attempts: int = Field(
        default=30, description="Delivery attempts of one event before it is marked failed (30: about a day)."
    )
    webhook_backoff_seconds: float = Field(
        default=5.0, description="First retry delay of webhooks and SMS; doubles each attempt."
    )
    webhook_backoff_max_seconds: float = Field(default=3600.0, description="Longest retry delay (seconds).")
    outbox_poll_seconds: float = Field(
        default=2.0, description="How often the webhook/SMS workers look for work."
    )
    sms_gateway_url: str | None = Field(
        default=None, description="HTTP SMS gateway URL ({phone} {text} allowed for GET); empty: no SMS."
    )
    sms_gateway_method: Literal["POST", "GET"] = Field(
        default="POST", description="HTTP method of the gateway."
    )
    sms_gateway_body: str = Field(
        default='{"to": "{phone}", "text": "{text}"}',
        description="Request body template; {phone} and {text} are substituted (escaped for the content type).",
    )
    sms_gateway_content_type: str = Field(
        default="application/json", description="Content-Type of the gateway request body."
    )
    sms_gateway_headers: str = Field(
        default="{}",
        description='Extra gateway headers as a JSON object, e.g. {"Authorization": "Bearer …"}.',
    )
    sms_max_attempts: int = Field(
        default=8, description="Send attempts of one SMS before it is marked failed."
    )
    sms_templates_file: Path | None = Field(
        default=None, description="YAML of SMS texts per template key overriding the built-in Russian ones."
    )
    sms_payment_url: str = Field(
        default="", description="Payment link put into debt SMS; {account} is the account number."
    )

    # --- voice calls (voice channel issue) -----------------------------------------------------------
    asr_max_active: int = Field(
        default=1000,
        ge=0,
        description="Vosk/Kaldi decoder --max-active (most search states per frame), sized for 20 calls on 2 "
        "cores; 0: the model's own value. Lower is faster, less accurate (docs/performance.md).",
    )
    asr_beam: float = Field(
        default=8.0, ge=0, description="Vosk/Kaldi decoder --beam; 0: the model's own value. Lower is faster."
    )
    asr_lattice_beam: float = Field(
        default=1.5,
        ge=0,
        description="Vosk/Kaldi decoder --lattice-beam; 0: the model's own value. Lower is faster.",
    )
    asr_reuse_recognizers: bool = Field(
        default=True,
        description="Hand a finished call's Vosk recogniser (reset; only its speaker/channel adaptation "
        "statistics carry over) to the next call: a fresh one costs ~10x the CPU on its first utterance.",
    )
    asr_warm_recognizers: int = Field(
        default=20,
        ge=0,
        description="Vosk recognisers kept warm (decoded speech once) for free speech, a quarter of that per "
        "closed-question grammar; made at start-up off callers' time, ~25 MB each. Calls beyond it get a "
        "fresh one (~8x the CPU on its first utterance), freed when the call ends. Match VOICEBOT_MAX_DIALOGUES.",
    )
    voice_enabled: bool = Field(
        default=True, description="Run the voice channel (AudioSocket server, voice dialogues) in `serve`."
    )
    voice_trailing_silence_ms: int = Field(
        default=600, description="Silence after caller speech that ends the caller's turn (ms)."
    )
    voice_silence_timeout: float = Field(
        default=8.0, description="Seconds of silence on both sides before the dialogue's no-input handling."
    )
    voice_dtmf_timeout: float = Field(
        default=3.0, description="Seconds after the last key press that end keypad input ('#' ends at once)."
    )
    voice_announce_ttl: float = Field(
        default=120.0, description="Seconds an announced call UUID waits for its AudioSocket connection."
    )

    # --- MAX messenger channel (docs/max.md) --------------------------------------------------------
    max_mode: Literal["off", "polling", "webhook"] = Field(
        default="off", description="How the MAX bot gets updates: long polling, webhook, or not at all."
    )
    max_bot_token: str = Field(default="", description="MAX bot access token (from @MasterBot); secret.")
    max_api_url: str = Field(
        default="https://platform-api2.max.ru", description="Base URL of the MAX Bot API."
    )
    max_webhook_url: str = Field(
        default="", description="Public HTTPS URL of this service's /max/webhook (webhook mode)."
    )
    max_webhook_secret: str = Field(
        default="", description="Secret MAX sends in X-Max-Bot-Api-Secret with each webhook delivery."
    )
    max_idle_minutes: int = Field(
        default=30, description="A MAX conversation with no message for this long is closed (minutes)."
    )

    # --- security ------------------------------------------------------------------------------
    dev_mode: bool = Field(
        default=False,
        description="Development mode: `serve` starts even with shipped default secrets (demo, lab only).",
    )
    telephony_dir: Path = Field(
        default=PROJECT_ROOT / "telephony",
        description="Asterisk configuration `serve` checks for shipped default secrets (manager.conf, "
        "pjsip.conf).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (audit, "
        "limiter); empty: none, the TCP peer is the client.",
    )
    api_rate_per_minute: int = Field(
        default=600, ge=0, description="Requests one API key may make per minute; more get 429. 0: no limit."
    )
    web_rate_per_minute: int = Field(
        default=300,
        ge=0,
        description="UI requests one signed-in user (their key, all sessions) may make per minute; more get a "
        "429 page. 0: no limit.",
    )
    voice_sockets_per_minute: int = Field(
        default=10,
        ge=0,
        description="Microphone WebSockets one user or key may open per minute. 0: no limit.",
    )
    voice_sockets_per_user: int = Field(
        default=2,
        ge=0,
        description="Microphone WebSockets one user or key may hold open at once. 0: no limit.",
    )

    # --- resilience and observability (faults issue) --------------------------------------------
    journal_path: Path | None = Field(
        default=None,
        description="Local SQLite journal of call records awaiting PostgreSQL; empty: one per database in DATA_DIR/journal/.",
    )
    db_read_timeout: float = Field(
        default=1.0,
        description="Longest a call waits for a database read (account lookup…); past it: overflow + callback.",
    )
    journal_write_wait: float = Field(
        default=2.0,
        description="Longest a call write waits for PostgreSQL before relying on the local journal alone (s).",
    )
    voice_db_pool_size: int = Field(
        default=5, description="Database connections of the voice path, apart from the HTTP API's pool."
    )
    node_name: str = Field(
        default="", description="This process's name on call rows (reaper); empty: host:AudioSocket port."
    )
    stale_call_seconds: int = Field(
        default=3600,
        description="A call still 'active' this long after it started is closed as interrupted by the reaper.",
    )
    api_max_concurrent: int = Field(
        default=16,
        description="HTTP requests handled at once; more get 503 + Retry-After at once (a burst never queues).",
    )
    api_max_concurrent_exports: int = Field(
        default=2, description="Exports and contact uploads handled at once (within their own budget)."
    )
    metrics_token: str = Field(
        default="",
        description="Bearer token that may read /metrics and /healthz details; empty: clients in "
        "METRICS_ALLOWED_NETWORKS may.",
    )
    metrics_allowed_networks: str = Field(
        default="127.0.0.1/32,::1/128",
        description="CIDRs whose clients (proxy-aware address) read /metrics and /healthz details without "
        "the token; others get 403 and a bare status.",
    )
    voice_link_port: int = Field(
        default=0,
        description="Loopback port on which the voice process (`serve --no-http`) gives the HTTP process its state, "
        "metrics and call cards; 0: none, or a free one that `serve` picks for its two processes.",
    )
    voice_link_token: str = Field(
        default="",
        description="Shared secret of that voice link; empty: `serve` makes a random one for its two processes.",
    )
    http_nice: int = Field(
        default=10,
        description="Niceness `serve` gives its HTTP process, so audio frames win the CPU over an API burst; 0: none.",
    )

    # --- logging -------------------------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format.")

    @property
    def recordings_path(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def node(self) -> str:
        import socket

        return self.node_name or f"{socket.gethostname()}:{self.audiosocket_port}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def nlu_cache_path(self) -> Path:
        if self.nlu_cache_dir is not None:
            return self.nlu_cache_dir
        xdg = os.environ.get("XDG_CACHE_HOME")
        return (Path(xdg) if xdg else Path.home() / ".cache") / "voicebot" / "nlu"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"VOICEBOT_{field.upper()}"


def _shown_default(value: object) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, Path) and value.is_absolute() and value.is_relative_to(PROJECT_ROOT):
        return f"`<project>/{value.relative_to(PROJECT_ROOT)}`"
    return f"`{value}`"


def settings_table() -> str:
    """The Markdown table of every setting; docs/configuration.md embeds it verbatim."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `{env_name(name)}` | {_shown_default(field.default)} | {field.description} |")
    return "\n".join(lines)
