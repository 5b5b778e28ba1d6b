"""Bad input answers 4xx JSON, never 500: JSON nested too deep, lone surrogates, over HTTP and Socket.IO."""
from __future__ import annotations

import json

import pytest
import requests

DEEP = "[" * 999 + "]" * 999
SURROGATE_ESCAPED = '"\\ud800"'
SURROGATE_RAW = '"\ud800"'.encode("utf-8", "surrogatepass")


def login_bodies() -> dict[str, bytes]:
    return {"deep body": DEEP.encode(), "deep field": f'{{"username": {DEEP}, "password": "x"}}'.encode(),
            "escaped surrogate": f'{{"username": {SURROGATE_ESCAPED}, "password": "x"}}'.encode(),
            "raw surrogate": b'{"username": ' + SURROGATE_RAW + b', "password": "x"}',
            "surrogate password": f'{{"username": "off1", "password": {SURROGATE_ESCAPED}}}'.encode()}


def rating_bodies() -> dict[str, bytes]:
    return {"deep body": DEEP.encode(), "deep reasons": f'{{"score": 4, "reasons": {DEEP}}}'.encode(),
            "escaped surrogate": f'{{"score": 4, "comment": {SURROGATE_ESCAPED}}}'.encode(),
            "raw surrogate": b'{"score": 4, "comment": ' + SURROGATE_RAW + b'}',
            "surrogate reason": f'{{"score": 4, "reasons": [{SURROGATE_ESCAPED}]}}'.encode()}


def assert_400_json(answer) -> None:
    assert answer.status_code == 400, answer.data
    assert answer.json["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("name", login_bodies())
def test_a_login_too_deep_or_with_a_lone_surrogate_is_400(client, name):
    assert_400_json(client.post("/api/v1/auth/login", data=login_bodies()[name], content_type="application/json"))


@pytest.mark.parametrize("name", rating_bodies())
def test_a_rating_too_deep_or_with_a_lone_surrogate_is_400(client, api, name):
    ticket = api.issue()
    raw = rating_bodies()[name]
    assert_400_json(client.post(f"/api/v1/tickets/{ticket['id']}/rating", data=raw, content_type="application/json"))
    assert_400_json(client.post(f"/api/v1/branches/hk-01/tickets/{ticket['number']}/rating", data=raw,
                                content_type="application/json", headers=api.headers("kiosk1")))


class Polling:
    """A Socket.IO client over plain HTTP long-polling: packets exactly as written, however deep."""

    def __init__(self, base: str) -> None:
        opened = requests.get(base + "/socket.io/?EIO=4&transport=polling", timeout=5)
        self.url = base + f"/socket.io/?EIO=4&transport=polling&sid={json.loads(opened.text[1:])['sid']}"
        self.send("40")
        assert self.receive().startswith("40")

    def send(self, packet: str) -> None:
        assert requests.post(self.url, data=packet, timeout=5).text == "OK"

    def receive(self) -> str:
        return requests.get(self.url, timeout=5).text


@pytest.mark.parametrize("argument", [DEEP, '{"branch": ' + DEEP + '}', '{"branch": ' + SURROGATE_ESCAPED + '}'],
                         ids=["deep", "deep field", "surrogate"])
def test_a_subscription_too_deep_or_with_a_lone_surrogate_is_refused_with_an_answer(live_app, argument):
    client = Polling(live_app.base)
    client.send('427["subscribe",' + argument + ']')
    answers = client.receive()
    assert '437[{"ok":false' in answers, answers
    client.send('428["subscribe",{"branch":"hk-01"}]')
    assert '438[{"ok":true}]' in client.receive()
