"""The announcement URL: only real calls are rendered, no text reaches espeak-ng as an option, the
clip cache is bounded and a slow phrase holds up no other one."""
from __future__ import annotations

import io
import shutil
import threading
import time
import wave

import pytest

from motcua.voice import Voice
from motcua.web.pages import VOICE

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
OPTIONS = ["-fsecret", "-fnosuch", "--stdin", "-q", "-x", "--help"]


def called_ticket(api, counter: str = "3", service: str = "cert") -> dict:
    api.issue(service)
    answer = api.post(f"/branches/hk-01/counters/{counter}/next", "off1")
    assert answer.status_code == 200, answer.text
    return answer.json["ticket"]


@pytest.mark.parametrize("counter", OPTIONS)
def test_an_option_for_a_counter_answers_404_json_at_once_and_renders_nothing(client, api, app, counter):
    number = called_ticket(api)["number"]
    voice = app.extensions[VOICE]
    before = dict(voice._clips)
    started = time.monotonic()
    answer = client.get(f"/display/voice/vi/{number}/{counter}.wav")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
    assert time.monotonic() - started < 1.0
    assert voice._clips == before


def test_made_up_counters_and_numbers_do_not_grow_the_cache(client, api, app):
    number = called_ticket(api)["number"]
    voice = app.extensions[VOICE]
    before = len(voice._clips)
    for i in range(50):
        assert client.get(f"/display/voice/vi/{number}/x{i}.wav").status_code == 404
        assert client.get(f"/display/voice/vi/recall/{number}/x{i}.wav").status_code == 404
    # A counter that exists, but no ticket of that number today.
    assert client.get("/display/voice/vi/Z9999/3.wav").status_code == 404
    assert len(voice._clips) == before


@needs_espeak
def test_a_real_call_is_spoken(client, api):
    number = called_ticket(api)["number"]
    answer = client.get(f"/display/voice/vi/{number}/3.wav")
    assert answer.status_code == 200
    with wave.open(io.BytesIO(answer.data)) as clip:
        assert clip.getnframes() / clip.getframerate() > 1.0


@needs_espeak
@pytest.mark.parametrize("phrase", OPTIONS)
def test_espeak_reads_a_phrase_that_looks_like_an_option_as_text(phrase):
    frames = Voice().clip("en", phrase)
    assert len(frames) > 2 * 22050 * 0.1


class Gated(Voice):
    """Renders "slow" only once the test opens the gate; every other phrase at once."""

    def __init__(self, **kwargs) -> None:
        super().__init__(espeak="espeak-ng", **kwargs)
        self.entered, self.gate, self.rendered = threading.Event(), threading.Event(), []

    def _render(self, lang: str, phrase: str) -> bytes:
        self.rendered.append(phrase)
        if phrase == "slow":
            self.entered.set()
            assert self.gate.wait(10)
        return phrase.encode()


def test_a_slow_render_holds_up_no_other_phrase():
    voice = Gated()
    slow = threading.Thread(target=voice.clip, args=("vi", "slow"))
    slow.start()
    assert voice.entered.wait(5)
    other = threading.Thread(target=voice.clip, args=("vi", "quick"))
    other.start()
    other.join(5)
    quick_done = not other.is_alive()
    voice.gate.set()
    slow.join(5)
    assert quick_done, "a phrase waited for another one's render"
    assert voice.clip("vi", "slow") == b"slow" and voice.rendered.count("slow") == 1


def test_the_cache_keeps_the_most_recently_used_clips_only():
    voice = Gated(max_clips=3)
    for phrase in ["a", "b", "c", "a", "d"]:
        voice.clip("vi", phrase)
    assert sorted(p for _, p in voice._clips) == ["a", "c", "d"]
    voice.clip("vi", "b")
    assert voice.rendered == ["a", "b", "c", "d", "b"]


def frames_of(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 22050)
        return clip.readframes(clip.getnframes())


def marks_of(answer) -> list[tuple[float, ...]]:
    return [tuple(float(x) for x in mark.split("-")) for mark in answer.headers["X-Voice-Marks"].split(",")]


@needs_espeak
@pytest.mark.parametrize("recall", [False, True])
def test_calls_in_a_burst_are_said_short_in_one_clip_with_when_each_is_said(client, api, app, recall):
    first, second = called_ticket(api, "3"), called_ticket(api, "4", "land")
    path = "recall/calls" if recall else "calls"
    answer = client.get(f"/display/voice/vi/{path}/{first['number']}-3,{second['number']}-4.wav")
    assert answer.status_code == 200 and answer.mimetype == "audio/wav"
    frames, voice = frames_of(answer.data), app.extensions[VOICE]
    lead = "voice.burst_recall_lead" if recall else "voice.burst_call_lead"
    from motcua.i18n import catalogue
    texts = catalogue("vi")
    # "Mời số B001 quầy 3, B002 quầy 4": the short lead, then each number's words and its counter, in order.
    at = 0
    for phrase in [texts[lead], *(texts["voice.letters"].get(ch, ch) if ch.isalpha() else texts["voice.digits"][int(ch)]
                                  for ch in first["number"]), texts["voice.burst_to_counter"], "3",
                   *(texts["voice.letters"].get(ch, ch) if ch.isalpha() else texts["voice.digits"][int(ch)]
                     for ch in second["number"]), texts["voice.burst_to_counter"], "4"]:
        found = frames.find(voice.clip("vi", phrase), at)
        assert found >= at, phrase
        at = found
    assert texts["voice.call_lead"] not in texts[lead]
    # Two calls, two marks, in order, within the clip: the first from the lead, the second from its number;
    # each to the end of its number, then of its counter ("quầy" and the counter: 0.3-2 s).
    (b1, n1, e1), (b2, n2, e2) = marks_of(answer)
    assert b1 == 0 < n1 < e1 < b2 < n2 < e2 <= len(frames) / 2 / 22050 + 0.01
    assert 0.3 < e1 - n1 < 2 and 0.3 < e2 - n2 < 2
    letter = voice.clip("vi", texts["voice.letters"].get(second["number"][0], second["number"][0]))
    assert b2 * 22050 * 2 == pytest.approx(frames.find(letter, int(e1 * 22050 * 2)), abs=0.005 * 22050 * 2)
    single = client.get(f"/display/voice/vi/{first['number']}/3.wav")
    assert len(marks_of(single)) == 1 and len(single.data) > len(client.get(
        f"/display/voice/vi/calls/{first['number']}-3.wav").data)   # the short form is shorter


@pytest.mark.parametrize("calls", [
    "{n}-3,Z9999-3",           # a number not called today
    "{n}-3,{n}-x9",            # a counter that does not exist
    "{n}-3,",                  # an empty item
    "{n}",                     # no counter
    "{n}-3;x",                 # not a counter
    ",".join(["{n}-3"] * 9),   # more than the display shows ([queue] recent_calls = 8)
    "-fsecret-3",
])
@pytest.mark.parametrize("path", ["calls", "recall/calls"])
def test_a_burst_clip_of_made_up_calls_is_refused_with_a_json_404(client, api, app, calls, path):
    number = called_ticket(api)["number"]
    before = dict(app.extensions[VOICE]._clips)
    answer = client.get(f"/display/voice/vi/{path}/{calls.format(n=number)}.wav")
    assert answer.status_code == 404, answer.status_code
    assert answer.json["error"]["code"] == "not_found"
    assert app.extensions[VOICE]._clips == before
    assert client.get(f"/display/voice/fr/{path}/{number}-3.wav").status_code == 404
