"""Choosing the recogniser and the model folder from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.asr import (
    ASRUnavailableError,
    VoskFactory,
    VoskRecognizer,
    VoskServerRecognizer,
    create_recognizer_factory,
    resolve_model_path,
)
from voicebot.settings import Settings


def test_explicit_model_path_wins(ko_model_path: Path, tmp_path: Path):
    settings = Settings(vosk_model_path=ko_model_path, models_dir=tmp_path)
    factory = create_recognizer_factory(settings)
    assert isinstance(factory, VoskFactory)
    assert factory.pool.model_path == ko_model_path.resolve()
    rec = factory(call_id="c1")
    assert isinstance(rec, VoskRecognizer) and rec.call_id == "c1" and rec.sample_rate == 16000


def test_small_russian_model_is_found_in_models_dir(ko_model_path: Path, tmp_path: Path):
    (tmp_path / "vosk-model-ru-0.42").symlink_to(ko_model_path)
    (tmp_path / "vosk-model-small-ru-0.22").symlink_to(ko_model_path)
    settings = Settings(models_dir=tmp_path)
    assert resolve_model_path(settings).name == "vosk-model-small-ru-0.22"


def test_no_model_tells_the_user_to_download_one(tmp_path: Path):
    with pytest.raises(ASRUnavailableError, match="voicebot models download"):
        create_recognizer_factory(Settings(models_dir=tmp_path))


def test_wrong_explicit_path_is_refused(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ASRUnavailableError, match="not a Vosk model"):
        resolve_model_path(Settings(vosk_model_path=tmp_path / "empty"))


def test_vosk_server_needs_no_local_model(tmp_path: Path):
    settings = Settings(asr="vosk-server", vosk_server_url="ws://127.0.0.1:2700", models_dir=tmp_path)
    rec = create_recognizer_factory(settings)(call_id="c2")
    assert isinstance(rec, VoskServerRecognizer)
    assert rec.url == "ws://127.0.0.1:2700" and rec.call_id == "c2"


def test_recognisers_fit_the_media_pipeline_interface(ko_model_path: Path, tmp_path: Path):
    from voicebot.asr import Partial, Transcript, Word
    from voicebot.media import interfaces

    partial = Partial("алло", endpoint=True)
    assert isinstance(partial, str) and partial == "алло" and partial.endpoint
    assert Word("алло", 0.1, 0.4).word == "алло"
    transcript = Transcript("алло", 0.9)
    assert (transcript.text, transcript.confidence) == ("алло", 0.9)
    for cls in (VoskRecognizer, VoskServerRecognizer):
        for method in ("accept", "final", "reset"):
            assert callable(getattr(cls, method))
    assert {"accept", "final", "reset"} <= set(dir(interfaces.StreamingRecognizer))
