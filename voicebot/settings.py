"""The one settings object. Every knob of the service is read here from the environment.

`DATABASE_URL` is read without a prefix (the convention of hosting platforms); everything else is
`VOICEBOT_<FIELD NAME IN UPPER CASE>`. `docs/configuration.md` lists every field; a test keeps the two
in step, so a new field must be documented there.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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

    # --- telephony -----------------------------------------------------------------------------
    audiosocket_host: str = Field(default="0.0.0.0", description="AudioSocket listen address.")
    audiosocket_port: int = Field(default=9092, description="AudioSocket listen port.")
    audiosocket_allowed_networks: str = Field(
        default="127.0.0.0/8,::1/128", description="Comma-separated CIDRs allowed to open AudioSocket calls."
    )
    audiosocket_unknown_uuid: Literal["reject", "inbound"] = Field(
        default="inbound", description="What to do with an AudioSocket UUID nobody announced."
    )
    fastagi_host: str = Field(default="0.0.0.0", description="FastAGI listen address.")
    fastagi_port: int = Field(default=4573, description="FastAGI listen port.")
    ami_host: str = Field(default="127.0.0.1", description="Asterisk Manager Interface host.")
    ami_port: int = Field(default=5038, description="Asterisk Manager Interface port.")
    ami_username: str = Field(default="voicebot", description="AMI user.")
    ami_secret: str = Field(default="", description="AMI password (never logged).")
    max_dialogues: int = Field(default=20, description="Concurrent dialogues this process accepts.")

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
    recording_retention_days: int = Field(
        default=3 * 365, description="Recordings older than this are deleted."
    )

    # --- campaigns, callbacks, SLA (telephony issue) ------------------------------------------------

    # --- HTTP API, webhooks, SMS (API issue) -----------------------------------------------------------

    # --- voice calls (voice channel issue) -----------------------------------------------------------

    # --- logging -------------------------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format.")

    @property
    def recordings_path(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


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
