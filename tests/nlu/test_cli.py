import json

import pytest
from typer.testing import CliRunner

from voicebot.cli import nlu as nlu_cli
from voicebot.settings import get_settings


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("VOICEBOT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_parse_json_lines_in_order(tmp_path) -> None:  # noqa: ANN001
    src = tmp_path / "in.txt"
    src.write_text("угу\nдо двадцатого оплачу\nсто двадцать три и пять десятых\n", encoding="utf-8")
    result = CliRunner().invoke(
        nlu_cli.app, ["parse", "--file", str(src), "--json", "--now", "2024-11-12T14:00"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["угу", "до двадцатого оплачу", "сто двадцать три и пять десятых"]
    assert set(rows[0]) == {"text", "intent", "entities", "intent_ranking"}
    assert rows[1]["entities"][0] == {"entity": "date", "value": "2024-11-20", "start": 0, "end": 13}
    assert rows[2]["entities"][0]["value"] == 123.5
    assert "неприемлемо" not in result.output and "\\u" not in result.output


def test_parse_values_are_json_typed() -> None:
    result = CliRunner().invoke(
        nlu_cli.app,
        ["parse", "--json", "--now", "2024-11-12T14:00:00+03:00", "Мира, восемь, квартира двести"],
    )
    row = json.loads(result.stdout)
    assert row["entities"][0]["value"]["street"] == "Мира" and row["entities"][0]["value"]["flat"] == "200"
    money = json.loads(CliRunner().invoke(nlu_cli.app, ["parse", "--json", "--now", "2024-11-12T14:00",
                                                        "две тысячи триста сорок рублей"]).stdout)  # fmt: skip
    assert money["entities"][0]["value"] == 2340 and isinstance(money["entities"][0]["value"], int)


def test_parse_stdin_readable() -> None:
    result = CliRunner().invoke(nlu_cli.app, ["parse", "--now", "2024-11-12T14:00"], input="в три часа дня\n")
    assert result.exit_code == 0 and 'time="15:00"' in result.output


def test_bad_now_is_a_clear_error() -> None:
    result = CliRunner().invoke(nlu_cli.app, ["parse", "--now", "вчера", "да"])
    assert result.exit_code != 0 and "ISO 8601" in result.output


def test_evaluate_passes_and_fails(tmp_path) -> None:  # noqa: ANN001
    ok = CliRunner().invoke(nlu_cli.app, ["evaluate", "--json"])
    assert ok.exit_code == 0, ok.output[-2000:]
    assert json.loads(ok.stdout)["intent_accuracy"] >= 0.95
    bad = tmp_path / "bad.yml"
    bad.write_text(
        'now: "2024-11-12T14:00:00+03:00"\ncases:\n- {text: "да", intent: deny}\n', encoding="utf-8"
    )
    failed = CliRunner().invoke(nlu_cli.app, ["evaluate", "--file", str(bad)])
    assert failed.exit_code == 1 and "misclassified" in failed.output


def test_export_rasa(tmp_path) -> None:  # noqa: ANN001
    result = CliRunner().invoke(nlu_cli.app, ["export-rasa", str(tmp_path / "rasa")])
    assert result.exit_code == 0
    assert (tmp_path / "rasa" / "data" / "nlu.yml").exists()
