"""The AudioSocket wire format: encoder and incremental decoder."""

import uuid

import pytest

from voicebot.asterisk.audiosocket import (
    FrameDecoder,
    Kind,
    MalformedFrameError,
    OversizedFrameError,
    TruncatedFrameError,
    UnknownKindError,
    encode_frame,
    kind_for_rate,
    rate_of_kind,
)


def test_encode_matches_captured_bytes():
    assert encode_frame(Kind.HANGUP) == b"\x00\x00\x00"
    assert encode_frame(Kind.DTMF, b"1") == bytes.fromhex("03000131")
    assert encode_frame(Kind.SLIN, bytes(320))[:3] == bytes.fromhex("100140")
    assert encode_frame(Kind.SLIN16, bytes(640))[:3] == bytes.fromhex("120280")
    uid = uuid.uuid4()
    assert encode_frame(Kind.UUID, uid.bytes) == bytes.fromhex("010010") + uid.bytes


def test_encode_rejects_what_cannot_be_framed():
    with pytest.raises(ValueError):
        encode_frame(Kind.SLIN, bytes(65536))
    with pytest.raises(ValueError):
        encode_frame(256)


def test_rates_follow_the_header_file():
    assert rate_of_kind(0x10) == 8000
    assert rate_of_kind(0x11) == 12000  # not 16 kHz, despite an early docs PR
    assert rate_of_kind(0x12) == 16000
    assert rate_of_kind(0x18) == 192000
    assert kind_for_rate(16000) == Kind.SLIN16
    with pytest.raises(ValueError):
        kind_for_rate(11025)


def test_decoder_handles_byte_by_byte_input_and_any_frame_size():
    uid = uuid.uuid4()
    stream = (
        encode_frame(Kind.UUID, uid.bytes)
        + encode_frame(Kind.SLIN, b"\x01\x00" * 240)  # 30 ms packet time
        + encode_frame(Kind.DTMF, b"#")
        + encode_frame(Kind.SLIN16, b"\x02\x00" * 320)
    )
    decoder = FrameDecoder()
    frames = []
    for byte in stream:
        frames += decoder.feed(bytes([byte]))
    assert [(f.kind, len(f.payload)) for f in frames] == [(0x01, 16), (0x10, 480), (0x03, 1), (0x12, 640)]
    assert uuid.UUID(bytes=frames[0].payload) == uid
    decoder.end_of_stream()  # nothing pending: no error


def test_decoder_returns_all_frames_of_one_read():
    data = encode_frame(Kind.SLIN, bytes(320)) * 5
    assert len(FrameDecoder().feed(data)) == 5


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x10\x00\x00", MalformedFrameError),  # zero-length audio
        (b"\x10\x00\x03abc", MalformedFrameError),  # half a sample
        (b"\x01\x00\x04abcd", MalformedFrameError),  # UUID of 4 bytes
        (b"\x03\x00\x01x", MalformedFrameError),  # not a DTMF digit
        (b"\x03\x00\x0212", MalformedFrameError),
        (b"\x42\x00\x01x", UnknownKindError),
        (b"\x10\xff\xff", OversizedFrameError),  # rejected on the header alone
    ],
)
def test_decoder_reports_garbage_as_typed_errors(data, error):
    with pytest.raises(error):
        FrameDecoder(max_frame_bytes=16384).feed(data)


def test_oversized_is_relative_to_the_configured_limit():
    frame = encode_frame(Kind.SLIN, bytes(2000))
    assert FrameDecoder(max_frame_bytes=2000).feed(frame)
    with pytest.raises(OversizedFrameError):
        FrameDecoder(max_frame_bytes=1999).feed(frame)


def test_truncated_stream_is_reported_at_eof():
    decoder = FrameDecoder()
    assert decoder.feed(encode_frame(Kind.SLIN, bytes(320))[:100]) == []
    with pytest.raises(TruncatedFrameError):
        decoder.end_of_stream()
