"""Drive the real kiosk app with real touches, under Xvfb (run by tests/test_kiosk.py and bench/kiosk.py).

    xvfb-run -a -s "-screen 0 1080x1920x24" python tests/kiosk_driver.py --server URL --token T \
        --scenario ticket [--printer /dev/pts/N] [--shots test-output]

The app runs on the main thread as in production; a script thread waits for screens, touches the
widgets at their window coordinates (the touch goes through Kivy's input pipeline like a finger's),
saves a screenshot of each screen as <shots>/kiosk-<screen><suffix>.png and prints JSON lines
starting with PREFIX: {"event": ...} along the way (the test may answer on stdin), then
{"result": ...} or {"error": ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path

PREFIX = "KIOSK-DRIVER "
WATCHDOG_S = 150


def say(**message) -> None:
    print(PREFIX + json.dumps(message, ensure_ascii=False, default=str), flush=True)


class Driver:
    def __init__(self, app, args):
        self.app, self.args = app, args
        self.shots = Path(args.shots)
        self.exit_code = 1

    # ---- running things on the UI thread ----

    def on_ui(self, action, timeout: float = 10.0):
        """Run action() on Kivy's thread (widgets and touches belong there) and return its result."""
        from kivy.clock import Clock

        done, box = threading.Event(), {}

        def call(dt):
            try:
                box["value"] = action()
            except Exception as error:  # noqa: BLE001  (handed back to the script thread)
                box["error"] = error
            done.set()

        Clock.schedule_once(call)
        if not done.wait(timeout):
            raise TimeoutError("the UI thread did not answer")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def screen(self) -> str:
        return self.on_ui(lambda: self.app.sm.current)

    def wait_for(self, check, what: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.on_ui(check)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"waited {timeout:g} s for {what}; on screen: {self.screen()} {self.texts()}")

    def wait_screen(self, name: str, timeout: float = 15.0) -> None:
        """Until the screen is up; a later slot offered on the way (a long queue) is declined with "take a
        number anyway", as scenarios other than `later` want the number."""
        while self.wait_for(lambda: self.app.sm.current in (name, "later") and self.app.sm.current,
                            f"screen {name}", timeout) != name:
            self.tap("queue")
            self.wait_for(lambda: self.app.sm.current != "later", "the later slot declined", timeout)

    def texts(self) -> list[str]:
        return self.on_ui(lambda: self.app.sm.current_screen.visible_texts())

    def tap(self, target: str) -> float:
        """A finger down on the widget's centre and up 80 ms later; returns when it lifted (time.time())."""
        from kivy.tests.common import UnitTestTouch

        def down():
            widget = self.app.sm.current_screen.targets[target]
            x, y = widget.to_window(*widget.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            return touch

        touch = self.on_ui(down)
        time.sleep(0.08)
        lifted = self.on_ui(lambda: (time.time(), touch.touch_up())[0])
        time.sleep(0.05)
        return lifted

    def shot(self, name: str) -> Path:
        """Window.screenshot of what is on screen now (after a few frames have been drawn)."""
        from kivy.core.window import Window

        time.sleep(0.4)
        self.shots.mkdir(parents=True, exist_ok=True)
        target = self.shots / f"kiosk-{name}{self.args.suffix}.png"
        saved = self.on_ui(lambda: Window.screenshot(str(self.shots / f".kiosk-shot-{os.getpid()}.png")))
        os.replace(saved, target)
        return target

    def wait_stdin(self, word: str) -> None:
        line = sys.stdin.readline().strip()
        if line != word:
            raise RuntimeError(f"expected {word!r} on stdin, got {line!r}")

    # ---- steps shared by scenarios ----

    def take_number(self, service: str, shots: bool = False) -> None:
        """Home → the service → "no, not priority"."""
        self.wait_screen("home")
        self.tap(f"service:{service}")
        self.wait_screen("priority")
        if shots:
            self.shot("priority")
        self.tap("no")

    def wait_printed(self, shot: str | None) -> dict:
        self.wait_screen("ticket")
        state = self.wait_for(lambda: self.app.print_state != "printing" and self.app.print_state, "the print result",
                              timeout=30)
        if shot:
            self.shot(shot)
        return {"ticket": self.app.issued.ticket, "print_state": state, "texts": self.texts()}

    # ---- scenarios ----

    def ticket(self) -> dict:
        """Home (both languages), priority, waiting, ticket."""
        self.wait_screen("home")
        self.shot("home")
        self.tap("lang:en")
        self.wait_for(lambda: self.app.kiosk.language == "en", "English")
        self.shot("home-en")
        self.tap("lang:vi")
        # Hold the ticket call until the waiting screen is photographed (it is usually gone in 50 ms).
        gate, take = threading.Event(), self.app.kiosk.take_ticket
        self.app.kiosk.take_ticket = lambda *a, **k: (gate.wait(10), take(*a, **k))[1]
        self.take_number(self.args.service, shots=True)
        self.wait_screen("waiting")
        self.shot("waiting")
        gate.set()
        return self.wait_printed("ticket")

    def redirect(self) -> dict:
        self.take_number(self.args.service)
        self.wait_screen("better")
        here = self.app.issued
        self.shot("better")
        self.tap("go:0")
        result = self.wait_printed("ticket-elsewhere")
        return {**result, "original": here.ticket, "alternatives": [asdict(a) for a in here.alternatives]}

    def unserved(self) -> dict:
        """A service no open counter serves here: said before any number; then --choice is touched
        (go:0, the first branch offered, or here: a number here all the same)."""
        self.wait_screen("home")
        self.tap(f"service:{self.args.service}")
        self.wait_screen("unserved")
        offered = self.on_ui(lambda: [asdict(a) for a in self.app.sm.current_screen.unserved.alternatives])
        said = self.texts()
        self.shot("unserved")
        self.tap(self.args.choice)
        self.wait_screen("priority")
        self.tap("no")
        result = self.wait_printed("ticket-unserved-" + ("here" if self.args.choice == "here" else "elsewhere"))
        return {**result, "said": said, "alternatives": offered}

    def later(self) -> dict:
        """Home → --service → not priority → a later slot offered (the queue is long) → --choice touched: book (the
        code shown) or queue (the number printed). --lang en switches language first. Layout checked on the offer
        and on what follows."""
        self.wait_screen("home")
        if self.args.lang != "vi":
            self.tap(f"lang:{self.args.lang}")
            self.wait_for(lambda: self.app.kiosk.language == self.args.lang, self.args.lang)
        self.take_number(self.args.service)
        self.wait_for(lambda: self.app.sm.current == "later", "screen later")
        offered = self.texts()
        problems = self.layout_problems("later slot")
        self.shot("later")
        self.tap(self.args.choice)
        if self.args.choice == "queue":
            # The number here; a branch nearby that calls sooner is offered next, as to any walk-in: stay here.
            if self.wait_for(lambda: self.app.sm.current in ("better", "ticket") and self.app.sm.current,
                             "the number or a branch nearby") == "better":
                self.tap("stay")
            return {**self.wait_printed("later-queue"), "offered": offered, "problems": problems}
        self.wait_for(lambda: self.app.sm.current == "message", "screen message")
        shown = self.texts()
        problems += self.layout_problems("later booked")
        self.shot("later-booked")
        return {"offered": offered, "shown": shown, "problems": problems}

    def rating(self) -> dict:
        """Home → "rate" → a number nobody has (asked again, kindly) → --number without its code (asked
        for) → a wrong code (refused, asked again) → --rating-code → four faces → thanks."""
        self.wait_screen("home")
        self.tap("rate")
        self.wait_screen("rate_number")
        self.shot("rate-empty")
        self.type_number("A999")                    # a whole number: the code is asked for next, by itself
        self.type_code("1234")
        self.tap("next")
        self.wait_screen("rate_score")
        self.tap("face:2")
        self.tap("send")
        self.wait_for(lambda: self.app.sm.current == "rate_number" and self.app.sm.current_screen.problem,
                      "the not-found answer")
        self.shot("rate-not-found")
        self.tap("field:number")
        for _ in range(4):
            self.tap("key:delete")
        self.type_number(self.args.number)
        for _ in range(4):                          # the code kept from before: cleared
            self.tap("key:delete")
        self.tap("next")                            # a number without its code is not sent
        self.wait_for(lambda: self.app.sm.current_screen.problem, "the code asked for")
        missing = self.texts()
        self.shot("rate-code-missing")
        wrong = f"{(int(self.args.rating_code) + 1) % 10000:04d}"
        self.type_code(wrong)
        self.tap("next")
        self.wait_screen("rate_score")
        self.tap("face:1")
        self.tap("send")
        self.wait_for(lambda: self.app.sm.current == "rate_number" and self.app.sm.current_screen.problem,
                      "the wrong-code answer")
        refused = self.texts()
        self.shot("rate-wrong-code")
        self.type_code(self.args.rating_code)
        self.shot("rate-number")
        self.tap("next")
        self.wait_screen("rate_score")
        self.tap("face:4")
        self.tap("reason:fast")
        self.tap("reason:friendly")
        self.shot("rate-score")
        self.tap("send")
        self.wait_screen("message")
        self.shot("rate-thanks")
        return {"texts": self.texts(), "missing": missing, "refused": refused}

    def lookup(self) -> dict:
        """Home → "look up a dossier" → --mistyped (refused in words) → deleted → --code → its status;
        then untouched, home again (--idle). --lang en switches language first."""
        self.wait_screen("home")
        if self.args.lang != "vi":
            self.tap(f"lang:{self.args.lang}")
            self.wait_for(lambda: self.app.kiosk.language == self.args.lang, self.args.lang)
        self.shot("home-lookup")
        self.tap("lookup")
        self.wait_screen("lookup_code")
        self.shot("lookup-empty")
        self.type_code(self.args.mistyped)
        self.tap("go")
        self.wait_for(lambda: self.app.sm.current == "lookup_code" and self.app.sm.current_screen.problem,
                      "the mistyped-code answer")
        refused = self.texts()
        self.shot("lookup-bad-code")
        for _ in self.args.mistyped:
            self.tap("key:delete")
        self.type_code(self.args.code)
        self.shot("lookup-typed")
        self.tap("go")
        self.wait_screen("lookup_result")
        shown = self.texts()
        self.shot("lookup-result")
        started = time.monotonic()
        self.wait_screen("home", timeout=self.args.idle + 10)
        return {"refused": refused, "shown": shown, "home_after_s": round(time.monotonic() - started, 2),
                "language": self.app.kiosk.language}

    def evaluate(self) -> dict:
        """Home → "look up a dossier" → --code (returned) → "evaluate" → the eleven --answers (comma-separated), going
        back once from the second → send → thanks; then the same code again: evaluated already, said in words."""
        answers = self.args.answers.split(",")
        self.wait_screen("home")
        self.tap("lookup")
        self.wait_screen("lookup_code")
        self.type_code(self.args.code)
        self.tap("go")
        self.wait_screen("lookup_result")
        self.shot("evaluate-lookup-result")
        self.tap("evaluate")
        self.wait_for(lambda: self.app.sm.current == "evaluate" and self.app.sm.current_screen.at == 0, "question 1")
        questions = [self.texts()]
        self.shot("evaluate-question-1")
        self.tap(f"choice:{answers[0]}")
        self.wait_for(lambda: self.app.sm.current_screen.at == 1, "question 2")
        self.tap("back")                               # the first answer, shown as chosen, changed again
        self.wait_for(lambda: self.app.sm.current_screen.at == 0, "question 1 again")
        chosen_before = self.on_ui(lambda: self.app.sm.current_screen.answers[:1])
        problems = []
        for at, answer in enumerate(answers):
            self.wait_for(lambda: self.app.sm.current == "evaluate" and self.app.sm.current_screen.at == at,
                          f"question {at + 1}")
            if at == len(answers) - 1:
                self.shot("evaluate-question-last")
            if at:
                questions.append(self.texts())
            problems += self.layout_problems(f"question {at + 1}")
            self.tap(f"choice:{answer}")
        self.wait_for(lambda: self.app.sm.current_screen.at == len(answers), "the send button")
        self.shot("evaluate-send")
        problems += self.layout_problems("send")
        self.tap("send")
        self.wait_screen("message")
        thanks = self.texts()
        self.shot("evaluate-thanks")
        self.wait_screen("home", timeout=20)            # the thanks go home by themselves
        self.tap("lookup")
        self.wait_screen("lookup_code")
        self.type_code(self.args.code)
        self.tap("go")
        self.wait_screen("lookup_result")
        self.tap("evaluate")
        self.wait_for(lambda: self.app.sm.current == "message", "the already-evaluated answer")
        again = self.texts()
        self.shot("evaluate-again")
        return {"questions": questions, "thanks": thanks, "again": again, "chosen_before": chosen_before,
                "problems": problems}

    def check_in(self) -> dict:
        """Home → "I have an appointment" → --mistyped (refused in words) → deleted → --number →
        checked in, with the people ahead. --lang en switches language first. Layout checked on each screen."""
        self.wait_screen("home")
        if self.args.lang != "vi":
            self.tap(f"lang:{self.args.lang}")
            self.wait_for(lambda: self.app.kiosk.language == self.args.lang, self.args.lang)
        problems = self.layout_problems("home")
        self.shot("checkin-home")
        self.tap("checkin")
        self.wait_screen("check_in")
        self.tap("go")                              # nothing typed: asked for the number
        self.wait_for(lambda: self.app.sm.current == "check_in" and self.app.sm.current_screen.problem,
                      "the empty answer")
        problems += self.layout_problems("check-in empty")
        self.shot("checkin-empty")
        self.type_code(self.args.mistyped)
        self.tap("go")
        self.wait_for(lambda: self.app.sm.current == "check_in" and self.app.sm.current_screen.problem,
                      "the not-found answer")
        refused = self.texts()
        problems += self.layout_problems("check-in refused")
        self.shot("checkin-not-found")
        for _ in self.args.mistyped:
            self.tap("key:delete")
        self.type_code(self.args.number)
        self.shot("checkin-typed")
        self.tap("go")
        self.wait_screen("message")
        shown = self.texts()
        problems += self.layout_problems("checked in")
        self.shot("checkin-done")
        return {"refused": refused, "shown": shown, "problems": problems}

    def layout_problems(self, where: str) -> list[str]:
        """What a person could not read: a label's text larger than its label, a label outside its touch
        card or the window, two labels or two touch targets on top of each other, type below the
        kiosk.s smallest (24 design px, as on the back key and the faces today)."""
        from kivy.core.window import Window
        from kivy.uix.label import Label

        from motcua.kiosk.ui_widgets import Tap, px

        def box(widget):
            x, y = widget.to_window(widget.x, widget.y)
            return x, y, x + widget.width, y + widget.height

        def inside(inner, outer, slack=1.5):
            return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
                    and inner[3] <= outer[3] + slack)

        def overlap(a, b, slack=1.0):
            return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack

        def check():
            screen = self.app.sm.current_screen
            window = (0, 0, Window.width, Window.height)
            problems, labels = [], []
            for widget in screen.walk():
                if not isinstance(widget, Label) or not widget.text.strip() or widget.opacity == 0:
                    continue
                widget.texture_update()
                name = f"{where}: {widget.text[:40]!r}"
                tw, th = widget.texture_size
                if tw > widget.width + 1.5 or th > widget.height + 1.5:
                    problems.append(f"{name} needs {tw:.0f}×{th:.0f}, has {widget.width:.0f}×{widget.height:.0f}")
                if widget.font_size < px(24) - 0.5:
                    problems.append(f"{name} in type of {widget.font_size / px(1):.0f} design px")
                here = box(widget)
                if not inside(here, window):
                    problems.append(f"{name} outside the window at {here}")
                parent = widget.parent
                while parent is not screen and not isinstance(parent, Tap):
                    parent = parent.parent
                if isinstance(parent, Tap) and not inside(here, box(parent)):
                    problems.append(f"{name} runs out of its card")
                labels.append((name, here))
            for i, (name, here) in enumerate(labels):
                problems += [f"{name} over {other}" for other, there in labels[i + 1:] if overlap(here, there)]
            targets = [(n, box(w)) for n, w in screen.targets.items() if w.get_root_window() is not None]
            for i, (name, here) in enumerate(targets):
                if not inside(here, window):
                    problems.append(f"{where}: {name} outside the window at {here}")
                problems += [f"{where}: {name} over {other}" for other, there in targets[i + 1:]
                             if overlap(here, there)]
            return problems

        time.sleep(0.3)                       # laid out: Kivy sizes widgets on the next frames
        return self.on_ui(check, timeout=60)

    def browse(self) -> dict:
        """Every page of the home screen in both languages (layout checked, the first and last
        photographed), every service seen with the touches it took from home (fields: the field, the
        page key or arrow when not on the first page, the service); the last one touched; then
        "khai sinh" typed on the search keys and its service's ticket taken."""
        self.wait_screen("home")
        seen, problems, pages, sizes, touches, fields = {}, [], {}, {}, {}, {}
        for lang in ("vi", "en"):
            if lang != "vi":
                self.tap(f"lang:{lang}")
                self.wait_for(lambda: self.app.kiosk.language == lang, lang)
            grouped = self.on_ui(lambda: [[f.id or "other" for _, row in page for f, _ in row]
                                          for page in self.app.sm.current_screen.pages]
                                 if self.app.sm.current_screen.fields else [])
            fields[lang] = [f for page in grouped for f in page]
            for home_page, ids in enumerate(grouped):
                if home_page:
                    self.tap(f"page:{home_page}")
                    self.wait_for(lambda: self.app.sm.current_screen.page == home_page, f"page {home_page + 1}")
                problems += self.layout_problems(f"home {lang} fields page {home_page + 1}")
                self.shot(f"home-{lang}-fields" + (f"-{home_page + 1}" if home_page else ""))
                # Every field in Vietnamese; in English the first and the last (the longest words).
                ends = {fields[lang][0], fields[lang][-1]}
                for field in ids if lang == "vi" else [f for f in ids if f in ends]:
                    self.tap(f"field:{field}")
                    self.wait_screen("field")
                    self._pages_of(f"field {field} {lang}", lang, seen, problems, sizes, touches, pages,
                                   2 if home_page else 1, shots=field in ends)
                    self.tap("back")
                    self.wait_screen("home")
                    self.wait_for(lambda: self.app.sm.current_screen.page == home_page, "back on its page")
            if not grouped:
                self._pages_of(f"home {lang}", lang, seen, problems, sizes, touches, pages, 0, shots=True)
        last = seen["en"][-1]
        if fields["en"]:
            home_pages = self.on_ui(lambda: len(self.app.sm.current_screen.pages))
            if home_pages > 1:
                self.tap(f"page:{home_pages - 1}")
                self.wait_for(lambda: self.app.sm.current_screen.page == home_pages - 1, "the last page of fields")
            self.tap(f"field:{fields['en'][-1]}")
            self.wait_screen("field")
            count = self.on_ui(lambda: len(self.app.sm.current_screen.pages))
            if count > 1:
                self.tap(f"page:{count - 1}")
                self.wait_for(lambda: self.app.sm.current_screen.page == count - 1, "the last page")
        elif pages["en"][-1] > 1:
            self.tap(f"page:{pages['en'][-1] - 1}")
        self.tap(f"service:{last}")
        self.wait_screen("priority")
        self.tap("back")
        self.wait_screen("home")
        self.tap("lang:vi")
        self.wait_for(lambda: self.app.kiosk.language == "vi", "vi")
        self.tap("search")
        self.wait_screen("search")
        problems += self.layout_problems("search empty")
        self.shot("search-empty")
        self.type_search(self.args.typed)
        found = self.on_ui(lambda: [n.split(":", 1)[1] for n in self.app.sm.current_screen.targets
                                    if n.startswith("result:")])
        problems += self.layout_problems(f"search {self.args.typed!r}")
        self.shot("search-found")
        self.tap(f"result:{self.args.service}")
        self.wait_screen("priority")
        self.tap("no")
        printed = self.wait_printed(None)
        return {"seen": seen, "pages": pages, "per_page": sizes, "problems": problems, "found": found,
                "touched_last": last, "fields": fields, "touches": touches, **printed}

    def _pages_of(self, where: str, lang: str, seen, problems, sizes, touches, pages, taken: int,
                  shots: bool) -> None:
        """Each page of the services on screen (home's, or a field's): their ids, the touches from home to
        each (taken to get here, one more for a page after the first, one for the card), layout checked."""
        count = self.on_ui(lambda: len(self.app.sm.current_screen.pages))
        pages.setdefault(lang, []).append(count)
        name = self.screen()
        for page in range(count):
            if page:
                # The arrow once, then the page keys: both ways must lead there.
                self.tap("page:next" if page == 1 else f"page:{page}")
                self.wait_for(lambda: self.app.sm.current_screen.page == page, f"page {page + 1}")
            ids = self.on_ui(lambda: [n.split(":", 1)[1] for n in self.app.sm.current_screen.targets
                                      if n.startswith("service:")])
            seen.setdefault(lang, []).extend(ids)
            sizes.setdefault(lang, []).append(len(ids))
            for service in ids:
                way = taken + (1 if page else 0) + 1          # the fewest, when several fields lead there
                touches.setdefault(lang, {})[service] = min(touches.get(lang, {}).get(service, way), way)
            problems += self.layout_problems(f"{where} page {page + 1}")
            if shots and page in (0, count - 1):
                label = where.replace(" ", "-")
                self.shot(f"{name}-{label}-{'last' if page else 1}" if name == "field" else
                          f"home-{lang}-{'last' if page else 1}")

    def type_search(self, typed: str) -> None:
        for char in typed.upper():
            self.tap("key:space" if char == " " else f"key:{char}")
        shown = self.on_ui(lambda: self.app.sm.current_screen.typed)
        if shown != typed.upper():
            raise RuntimeError(f"typed {typed}, the field shows {shown}")

    def revoked(self) -> dict:
        """Home; the test revokes the kiosk ("home" said): "out of service" comes by itself, no touch."""
        self.wait_screen("home")
        say(event="home")
        started = time.monotonic()
        self.wait_for(lambda: self.app.out_of_service and self.app.sm.current == "message", "out of service",
                      timeout=30)
        after = time.monotonic() - started
        texts = self.texts()
        self.shot("out-of-service")
        return {"texts": texts, "after_s": round(after, 2), "screen": self.screen()}

    def revoked_start(self) -> dict:
        """Started with a token the server refuses: "out of service" and never the menu."""
        self.wait_for(lambda: self.app.out_of_service and self.app.sm.current == "message", "out of service")
        texts = self.texts()
        self.shot("out-of-service-start")
        return {"texts": texts, "loaded": self.app.loaded, "targets": sorted(self.app.sm.current_screen.targets)}

    def closed(self) -> dict:
        """Started at a branch the administration closed: "this branch is closed", never the menu; the test
        reopens it ("closed" said) and the kiosk comes home by itself at its next check."""
        self.wait_for(lambda: self.app.closed and self.app.sm.current == "message", "the closed screen")
        texts, targets = self.texts(), self.on_ui(lambda: sorted(self.app.sm.current_screen.targets))
        self.shot("branch-closed")
        say(event="closed")
        self.wait_screen("home", timeout=30)
        return {"texts": texts, "targets": targets, "loaded": self.app.loaded,
                "services": self.on_ui(lambda: len(self.app.kiosk.services()))}

    def type_code(self, code: str) -> None:
        for char in code:
            self.tap(f"key:{char}")
        typed = self.on_ui(lambda: self.app.sm.current_screen.code)
        if typed != code:
            raise RuntimeError(f"typed {code}, the field shows {typed}")

    def type_number(self, number: str) -> None:
        for char in number:
            self.tap(f"key:{char}")
        typed = self.on_ui(lambda: self.app.sm.current_screen.number)
        if typed != number:
            raise RuntimeError(f"typed {number}, the keypad shows {typed}")

    def outage(self) -> dict:
        """The test kills the server after "home" and starts it again after "message"."""
        self.wait_screen("home")
        say(event="home")
        self.wait_stdin("go")
        # The kiosk asks whether the service is served before anything else: with nobody answering,
        # the calm message comes at the first touch.
        self.tap(f"service:{self.args.service}")
        self.wait_screen("message", timeout=20)
        self.wait_for(lambda: any("giây" in t for t in self.app.sm.current_screen.visible_texts()), "the countdown")
        self.shot("message")
        say(event="message", texts=self.texts())
        self.wait_screen("home", timeout=60)
        self.take_number(self.args.service)
        return self.wait_printed(None)

    def paper_out(self) -> dict:
        self.take_number(self.args.service)
        return self.wait_printed("ticket-printer-problem")

    def idle(self) -> dict:
        """In English, a service touched, then nothing: home again, in Vietnamese."""
        self.wait_screen("home")
        self.tap("lang:en")
        self.tap(f"service:{self.args.service}")
        self.wait_screen("priority")
        started = time.monotonic()
        self.wait_screen("home", timeout=self.args.idle + 10)
        return {"after_s": round(time.monotonic() - started, 2), "language": self.app.kiosk.language}

    def bench(self) -> dict:
        """Touch → ticket printed, n times; bench/kiosk.py times the bytes on the printer's side.
        "Yes, priority": a priority ticket is never offered another branch, so each one prints at once."""
        touched = []
        for _ in range(self.args.count):
            self.wait_screen("home")
            self.tap(f"service:{self.args.service}")
            self.wait_screen("priority")
            touched.append(self.tap("yes"))     # the finger lifts: the ticket starts now
            self.wait_printed(None)
            self.tap("done")
        return {"touched": touched}

    def card(self) -> dict:
        """Home → an ID card scanned (the test sends it down the scanner's serial line on the "scan" event) →
        the card screen → the service: the priority question only when the card did not answer it."""
        self.wait_screen("home")
        say(event="scan")
        self.wait_screen("card", timeout=20)
        said = self.texts()
        self.shot("card" + ("-priority" if self.app.card_priority else ""))
        self.tap("continue")
        self.wait_screen("home")
        self.tap(f"service:{self.args.service}")
        asked = self.wait_for(lambda: self.app.sm.current if self.app.sm.current in ("priority", "ticket") else None,
                              "the priority question or the ticket") == "priority"
        if asked:
            self.tap("no")
        result = self.wait_printed("ticket-card")
        return {**result, "asked": asked, "card_texts": said}

    def receipt_scan(self) -> dict:
        """Home (or --where lookup_code: "look up a dossier", --mistyped typed) → a dossier receipt's QR link scanned
        (the test sends it down the scanner's serial line on the "scan" event) → that dossier's lookup result →
        "evaluate": the first question."""
        self.wait_screen("home")
        if self.args.where == "lookup_code":
            self.tap("lookup")
            self.wait_screen("lookup_code")
            self.type_code(self.args.mistyped)
        before = self.screen()
        say(event="scan")
        self.wait_screen("lookup_result", timeout=20)
        found = self.on_ui(lambda: self.app.sm.current_screen.found.code)
        shown = self.texts()
        self.shot("receipt-scan-result")
        self.tap("evaluate")
        self.wait_screen("evaluate")
        question = self.on_ui(lambda: self.app.sm.current_screen.at)
        asked = self.texts()
        self.shot("receipt-scan-question")
        return {"before": before, "found": found, "shown": shown, "question": question, "asked": asked}

    # ---- main ----

    def run(self) -> None:
        try:
            if not self.app.ready.wait(30):
                raise TimeoutError("the app did not start")
            result = getattr(self, self.args.scenario.replace("-", "_"))()
            say(result=result)
            self.exit_code = 0
        except Exception as error:  # noqa: BLE001  (reported to the test, with a picture)
            say(error=f"{type(error).__name__}: {error}", trace=traceback.format_exc())
            try:
                self.shot(f"failure-{self.args.scenario}")
            except Exception:  # noqa: BLE001
                pass
        finally:
            try:
                self.on_ui(self.app.stop)
            except Exception:  # noqa: BLE001
                os._exit(self.exit_code)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--branch", default="hk-01")
    parser.add_argument("--token", required=True)
    parser.add_argument("--printer", default="")
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--printer-text", default="raster", choices=("raster", "cp1258"))
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--service", default="cert")
    parser.add_argument("--number", default="")
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--choice", default="go:0")
    parser.add_argument("--code", default="")
    parser.add_argument("--mistyped", default="")
    parser.add_argument("--rating-code", default="")
    parser.add_argument("--answers", default="")
    parser.add_argument("--lang", default="vi")
    parser.add_argument("--typed", default="khai sinh")
    parser.add_argument("--token-check", type=float, default=180.0)
    parser.add_argument("--card-scanner", default="")
    parser.add_argument("--where", default="home")
    parser.add_argument("--shots", default=str(Path(__file__).resolve().parent.parent / "test-output"))
    parser.add_argument("--suffix", default="")
    parser.add_argument("--watchdog", type=float, default=WATCHDOG_S, help="seconds before the driver gives up")
    args = parser.parse_args()

    from motcua.kiosk.app import build_app
    from motcua.kiosk.flow import Kiosk
    from motcua.kiosk.settings import KioskSettings

    settings = KioskSettings(args.server, args.branch, args.token, printer=args.printer, idle_s=args.idle,
                             printer_text=args.printer_text, token_check_s=args.token_check,
                             card_scanner=args.card_scanner)
    printer = None
    if args.printer and args.baudrate != 9600:
        # The flow opens its printer at pyserial's default 9600 baud (and pyserial reads no
        # `?baudrate=` on a device path): hand it one at the asked rate, laid out as the flow would.
        from motcua.hardware.printer import Printer
        from motcua.hardware.ticket_layout import PAPER_WIDTHS, LayoutSettings

        layout = LayoutSettings(width_dots=PAPER_WIDTHS[settings.paper], text_mode=settings.printer_text,
                                code_page=settings.printer_code_page)
        printer = Printer(args.printer, baudrate=args.baudrate, settings=layout)
    app = build_app(settings, Kiosk(settings, printer=printer))
    driver = Driver(app, args)
    threading.Thread(target=driver.run, daemon=True, name="kiosk-driver").start()
    threading.Timer(args.watchdog, lambda: (say(error="watchdog: the driver took too long"), os._exit(3))).start()
    app.run()
    os._exit(driver.exit_code)       # the watchdog timer thread must not keep the process alive


if __name__ == "__main__":
    sys.exit(main())
