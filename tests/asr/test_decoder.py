"""Decoder tuning: a model overlay with a patched conf/model.conf, loaded by the real Vosk."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.asr import DecoderTuning, VoskModelPool, VoskRecognizer
from voicebot.asr.decoder import patch_conf, tuned_model_dir
from voicebot.settings import Settings


def test_patch_replaces_set_values_and_appends_missing_ones():
    conf = "--min-active=200\n--max-active=3000\n--beam=10.0\n--lattice-beam=2.0\n"
    patched = patch_conf(conf, DecoderTuning(max_active=1000, beam=8.0).options())
    assert patched == "--min-active=200\n--max-active=1000\n--beam=8.0\n--lattice-beam=2.0\n"
    assert "--lattice-beam=1.5" in patch_conf("--beam=10\n", {"lattice-beam": "1.5"})


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="max_active"):
        DecoderTuning(max_active=0)
    with pytest.raises(ValueError, match="beam"):
        DecoderTuning(beam=-1.0)
    assert not DecoderTuning().active and DecoderTuning(lattice_beam=1.0).active


def fake_model(root: Path) -> Path:
    (root / "am").mkdir(parents=True)
    (root / "am" / "final.mdl").write_bytes(b"x")
    (root / "conf").mkdir()
    (root / "conf" / "model.conf").write_text("--max-active=3000\n--beam=10.0\n")
    (root / "conf" / "mfcc.conf").write_text("--use-energy=false\n")
    return root


def test_overlay_links_the_model_and_is_keyed_by_the_values(tmp_path: Path):
    model = fake_model(tmp_path / "model")
    tuning = DecoderTuning(max_active=700, beam=7.0)
    overlay = tuned_model_dir(model, tuning, tmp_path / "cache")
    assert (overlay / "am").is_symlink() and (overlay / "am" / "final.mdl").read_bytes() == b"x"
    assert (overlay / "conf" / "mfcc.conf").is_symlink()
    assert (overlay / "conf" / "model.conf").read_text() == "--max-active=700\n--beam=7.0\n"
    assert (model / "conf" / "model.conf").read_text() == "--max-active=3000\n--beam=10.0\n"  # untouched
    assert tuned_model_dir(model, tuning, tmp_path / "cache") == overlay
    assert tuned_model_dir(model, DecoderTuning(max_active=701), tmp_path / "cache") != overlay


def test_settings_reach_the_tuning():
    from voicebot.asr import decoder_tuning

    settings = Settings(asr_max_active=900, asr_beam=8.5, asr_lattice_beam=0)
    assert decoder_tuning(settings) == DecoderTuning(900, 8.5, None)  # 0: the model's own value


async def test_vosk_decodes_with_the_tuned_overlay(ko_model_path: Path, korean_speech, tmp_path: Path):
    pool = VoskModelPool(ko_model_path, threads=1, decoder=DecoderTuning(700, 7.0, 1.0), cache_dir=tmp_path)
    try:
        rec = VoskRecognizer(pool)
        await rec.accept(await korean_speech("안녕하세요"))
        assert (await rec.final()).text
        assert any((tmp_path / "vosk-tuned").iterdir())
    finally:
        pool.close()
