import pytest

from tests.nlu.conftest import NOW, SCENARIOS
from voicebot.nlu import create_nlu
from voicebot.nlu.embedded import EmbeddedNLU
from voicebot.settings import Settings

YES_NO = ["affirm", "deny"]


@pytest.mark.parametrize("text", ["угу", "ну да", "верно", "ага", "да-да", "так точно"])
def test_yes_no_step_takes_colloquial_yes(nlu: EmbeddedNLU, text: str) -> None:
    result = nlu.parse_sync(text, now=NOW, expected_intents=YES_NO)
    assert result.intent == "affirm" and result.confidence >= 0.6


@pytest.mark.parametrize(
    ("text", "intent"),
    [("позовите оператора", "operator"), ("повторите, пожалуйста", "repeat"), ("до свидания", "goodbye"),
     ("вы робот?", "are_you_robot"), ("вы ошиблись номером", "wrong_number"),
     ("я за рулём, перезвоните позже", "callback_later"), ("подождите секунду", "wait")],
)  # fmt: skip
def test_global_intents_win_over_expected(nlu: EmbeddedNLU, text: str, intent: str) -> None:
    assert nlu.parse_sync(text, now=NOW, expected_intents=YES_NO).intent == intent


def test_threshold_gives_none(nlu: EmbeddedNLU) -> None:
    strict = EmbeddedNLU(SCENARIOS, cache_dir=nlu.cache_dir, threshold=0.999)
    result = strict.parse_sync("ну такое себе, как сказать", now=NOW)
    assert result.intent is None and result.ranking and result.confidence < 0.999
    assert nlu.parse_sync("да", now=NOW).intent == "affirm"


def test_empty_and_noise(nlu: EmbeddedNLU) -> None:
    assert nlu.parse_sync("", now=NOW).intent is None
    assert nlu.parse_sync("…?!", now=NOW).entities == []


def test_naive_now_is_rejected(nlu: EmbeddedNLU) -> None:
    with pytest.raises(ValueError, match="timezone"):
        nlu.parse_sync("завтра", now=NOW.replace(tzinfo=None))


def test_report_problem_without_a_category_is_other(nlu: EmbeddedNLU) -> None:
    result = nlu.parse_sync("хочу оставить заявку, дверь в подъезд сломалась", now=NOW)
    assert result.intent == "report_problem" and result.last("problem").value == "other"


async def test_async_parse_and_json(nlu: EmbeddedNLU) -> None:
    result = await nlu.parse("до двадцатого оплачу", now=NOW, expected_intents=["promise_to_pay", "inform"])
    data = result.to_json()
    assert data["intent"]["name"] == "promise_to_pay"
    assert data["entities"] == [{"entity": "date", "value": "2024-11-20", "start": 0, "end": 13}]
    assert data["intent_ranking"][0]["name"] == "promise_to_pay"


def test_create_nlu_embedded(tmp_path) -> None:  # noqa: ANN001
    engine = create_nlu(Settings(data_dir=tmp_path, scenarios_dir=SCENARIOS))
    assert isinstance(engine, EmbeddedNLU)
    with pytest.raises(ValueError, match="RASA_URL"):
        create_nlu(Settings(nlu="rasa", rasa_url=None, RASA_URL=None))


def test_classifier_is_cached_on_disk(nlu: EmbeddedNLU) -> None:
    assert nlu.cache_dir is not None and list(nlu.cache_dir.glob("nlu-intents-*.npz"))
    cached = {p: p.stat().st_mtime_ns for p in nlu.cache_dir.glob("nlu-intents-*.npz")}
    again = EmbeddedNLU(SCENARIOS, cache_dir=nlu.cache_dir)
    again.warm_up()
    assert {
        p: p.stat().st_mtime_ns for p in nlu.cache_dir.glob("nlu-intents-*.npz")
    } == cached  # loaded, not retrained
