import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from tests.nlu.conftest import NOW, SCENARIOS
from voicebot.nlu import NLUUnavailable
from voicebot.nlu.rasa import RasaNLU, export_rasa


class _FakeRasa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/model/parse":
            self.send_error(404)
            return
        text = body["text"]
        start = text.find("двадцатого")
        answer = {
            "text": text,
            "intent": {"name": "promise_to_pay", "confidence": 0.91},
            "entities": [{"entity": "date", "value": "2024-11-20", "start": start, "end": start + 10,
                          "confidence_entity": 0.99, "extractor": "DIETClassifier"}],
            "intent_ranking": [{"name": "promise_to_pay", "confidence": 0.91}, {"name": "inform", "confidence": 0.05}],
        }  # fmt: skip
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_rasa_parse_maps_and_fills_entities(rasa_url: str) -> None:
    result = await RasaNLU(rasa_url).parse("до двадцатого оплачу двести рублей", now=NOW)
    assert result.intent == "promise_to_pay" and result.confidence == pytest.approx(0.91)
    assert result.last("date").value == "2024-11-20"
    assert result.last("money").value == 200  # not returned by Rasa: filled by our extractors
    assert result.ranking[0] == ("promise_to_pay", 0.91)


async def test_rasa_with_shared_client(rasa_url: str) -> None:
    async with httpx.AsyncClient() as client:
        result = await RasaNLU(rasa_url + "/", http_client=client).parse("двадцатого", now=NOW)
    assert result.to_json()["entities"][0]["entity"] == "date"


async def test_rasa_down_raises_typed_error() -> None:
    with pytest.raises(NLUUnavailable, match="unreachable"):
        await RasaNLU("http://127.0.0.1:9").parse("да", now=NOW)


async def test_rasa_http_error(rasa_url: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500, text="boom"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(NLUUnavailable, match="500"):
            await RasaNLU(rasa_url, http_client=client).parse("да", now=NOW)


def test_export_rasa(tmp_path) -> None:  # noqa: ANN001
    export_rasa(tmp_path, SCENARIOS)
    nlu = yaml.safe_load((tmp_path / "data" / "nlu.yml").read_text(encoding="utf-8"))
    domain = yaml.safe_load((tmp_path / "domain.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((tmp_path / "config.yml").read_text(encoding="utf-8"))
    assert nlu["version"] == "3.1" and "affirm" in domain["intents"] and "number" in domain["entities"]
    intents = {item["intent"] for item in nlu["nlu"]}
    assert intents == set(domain["intents"])
    assert any("[двести пятнадцать](number)" in item["examples"] for item in nlu["nlu"])
    assert config["language"] == "ru" and config["pipeline"]
