"""Announcements as audio, made on this machine (no internet): espeak-ng clips joined with gaps.

An announcement is a list of short phrases from the catalogue ("Mời công dân có số thứ tự",
the letter's name, each digit, "đến quầy số", the counter). Each phrase is rendered once by
espeak-ng and kept; announcements are the clips joined with the stdlib `wave` module. Digits of
a ticket number are spoken one by one, since espeak-ng reads "007" or "A012" as a number;
the counter is read as a number ("quầy số mười hai"). Studio recordings of the same phrases can
replace the clips later without changing anything else.
"""
from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess  # nosec B404  # it runs espeak-ng
import threading
import wave
from collections import OrderedDict

from .i18n import catalogue

RATE = 22050          # espeak-ng's own rate: clips join without resampling
GAP_S = 0.12          # between phrases
ESPEAK_VOICES = {"vi": "vi", "en": "en"}


# (short, recall) → the catalogue's lead and "to counter" phrases
FORMS = {(False, False): ("voice.call_lead", "voice.to_counter"),
         (False, True): ("voice.recall_lead", "voice.to_counter"),
         (True, False): ("voice.burst_call_lead", "voice.burst_to_counter"),
         (True, True): ("voice.burst_recall_lead", "voice.burst_to_counter")}


class VoiceUnavailable(RuntimeError):
    """espeak-ng is not installed: the display shows calls without the voice."""


def words(lang: str, number: str, counter: str, recall: bool = False) -> list[str]:
    """The phrases of one announcement, in order."""
    return [phrase for part in parts(lang, [(number, counter)], recall) for phrase in part]


def parts(lang: str, calls: list[tuple[str, str]], recall: bool = False, short: bool = False) -> list[list[str]]:
    """Each call's phrases (its number and counter), the lead before the first one. The short form
    ("Mời số A012 quầy 3, A013 quầy 4") is for calls said in a burst, where every second counts."""
    texts = catalogue(lang)
    letters, digits = texts["voice.letters"], texts["voice.digits"]
    lead, to_counter = FORMS[short, recall]
    said = []
    for number, counter in calls:
        said.append([letters.get(ch.upper(), ch) if ch.isalpha() else digits[int(ch)] for ch in number if ch.isalnum()]
                    + [texts[to_counter], counter])
    said[0].insert(0, texts[lead])
    return said


class Voice:
    """Renders phrases with espeak-ng once, and announcements from them."""

    def __init__(self, espeak: str | None = None, max_clips: int = 500) -> None:
        self.espeak = espeak or shutil.which("espeak-ng")
        self.max_clips = max_clips
        # Least recently used first: the cache stays within max_clips whatever is asked for.
        self._clips: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        # One lock per phrase being rendered: a slow phrase never holds up another one.
        self._rendering: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.espeak is not None

    def announcement(self, lang: str, number: str, counter: str, recall: bool = False) -> bytes:
        """A WAV file: the phrases of `words`, joined with short gaps."""
        return self.announcement_many(lang, [(number, counter)], recall)[0]

    def announcement_many(self, lang: str, calls: list[tuple[str, str]], recall: bool = False,
                          short: bool = False) -> tuple[bytes, list[tuple[float, float, float]]]:
        """A WAV file of the phrases of `parts`, joined with short gaps, and when each call is said in it:
        seconds from the clip's start to its turn (the first call's lead, the others' number), to the end
        of its number, and to the end of its counter."""
        frames, marks, at = [], [], 0
        for part in parts(lang, calls, recall, short):
            begin = at
            for k, phrase in enumerate(part):
                if k == len(part) - 2:
                    number_end = at - len(frames[-1])
                clip = self.clip(lang, phrase)
                frames += [clip, silence(GAP_S)]
                at += len(clip) + len(frames[-1])
            marks.append(tuple(x / 2 / RATE for x in (begin, number_end, at - len(frames[-1]))))
        return to_wav(b"".join(frames[:-1])), marks

    def clip(self, lang: str, phrase: str) -> bytes:
        """Raw 16-bit mono frames of one phrase (rendered once while it stays in the cache)."""
        key = (lang, phrase)
        with self._lock:
            if key in self._clips:
                self._clips.move_to_end(key)
                return self._clips[key]
            rendering = self._rendering.setdefault(key, threading.Lock())
        with rendering:
            with self._lock:
                if key in self._clips:
                    return self._clips[key]
            try:
                frames = self._render(lang, phrase)
            finally:
                with self._lock:
                    self._rendering.pop(key, None)
            with self._lock:
                self._clips[key] = frames
                while len(self._clips) > self.max_clips:
                    self._clips.popitem(last=False)
            return frames

    def _render(self, lang: str, phrase: str) -> bytes:
        if not self.espeak:
            raise VoiceUnavailable("espeak-ng is not installed")
        # The text goes on stdin, never among the arguments: no phrase can be read as an option.
        try:
            done = subprocess.run([self.espeak, "-v", ESPEAK_VOICES.get(lang, lang), "-s", "150", "--stdout",  # nosec B603  # no shell, text on stdin
                                   "--stdin"], input=phrase.encode("utf-8"), capture_output=True, timeout=20,
                                  check=True)
            with wave.open(io.BytesIO(done.stdout)) as clip:
                if clip.getframerate() != RATE or clip.getnchannels() != 1 or clip.getsampwidth() != 2:
                    raise VoiceUnavailable("espeak-ng gave an unexpected audio format")
                return _trim(clip.readframes(clip.getnframes()))
        except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as error:
            raise VoiceUnavailable(f"espeak-ng failed: {error}") from None


def _trim(frames: bytes, threshold: int = 300) -> bytes:
    """Drop the silence espeak-ng puts around a phrase, so that gaps are ours to set."""
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    loud = [i for i, s in enumerate(samples) if abs(s) > threshold]
    if not loud:
        return frames
    return frames[loud[0] * 2:(loud[-1] + 1) * 2]


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(RATE * seconds)


def to_wav(frames: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(frames)
    return out.getvalue()


def chime() -> bytes:
    """A two-note "ding-dong" (E6 then C6) with a soft decay: made here, no sound files needed."""
    frames = bytearray()
    for frequency, seconds in ((1318.5, 0.45), (1046.5, 0.7)):
        count = int(RATE * seconds)
        for i in range(count):
            t = i / RATE
            envelope = math.exp(-4.0 * t) * min(1.0, i / 200)
            value = envelope * (0.6 * math.sin(2 * math.pi * frequency * t) + 0.2 * math.sin(4 * math.pi * frequency * t))
            frames += struct.pack("<h", int(value * 20000))
    return to_wav(bytes(frames))
