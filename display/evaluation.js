// The statutory satisfaction evaluation of a dossier: the nine indicators (0, 1 or 2 points), then convenience and
// overall, one question at a time with big buttons, sent once (POST /api/v1/dossiers/{code}/evaluation).
// Two pages use it: the citizen's phone from the receipt's QR code (/e/{code}, no account), and the counter's
// tablet (/counter/evaluate, the officer's session: the evaluation is then the counter's). Vietnamese first.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const settings = JSON.parse($("motcua-settings").textContent);
  const texts = settings.texts;
  const counter = settings.mode === "counter";
  const SCORES = [2, 1, 0];
  const TONES = { 2: "good", 1: "mid", 0: "bad", very_satisfied: "good", satisfied: "mid", dissatisfied: "bad" };
  // The questions in order: the nine indicators, then the two answers of satisfaction.
  const QUESTIONS = settings.indicators.map((key) => ({ key: "evaluation.indicator." + key, choices: SCORES,
                                                       say: (v) => "evaluation.score." + v }))
    .concat(["convenience", "overall"].map((name) => ({ key: "evaluation.question." + name, name: name,
                                                        choices: settings.answers, say: (v) => "evaluation.answer." + v })));
  let code = settings.code;
  let answers = [];
  let at = 0;
  let csrf = null;

  // ---- text ----------------------------------------------------------------------------------

  function text(lang, key, values) {
    const template = texts[lang][key] !== undefined ? texts[lang][key] : (texts.vi[key] || key);
    return template.replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  }

  function say(el, key, values) {
    const vi = document.createElement("div");
    vi.className = "vi";
    vi.textContent = text("vi", key, values);
    const en = document.createElement("div");
    en.className = "en";
    en.lang = "en";
    en.textContent = text("en", key, values);
    el.replaceChildren(vi, en);
  }

  // ---- what the page shows -------------------------------------------------------------------

  const PARTS = ["loading", "problem", "code-form", "intro", "question", "confirm", "thanks"];

  function show(part) {
    document.body.dataset.state = part;
    for (const id of PARTS) $(id).hidden = id !== part;
    window.scrollTo(0, 0);
  }

  function problem(key, link) {
    say($("problem-title"), key);
    $("problem-link").hidden = !link;
    if (link) { say($("problem-link"), "evaluation.to_dossier"); $("problem-link").href = link; }
    $("problem-next").hidden = !counter;
    show("problem");
  }

  function refusal(status, body) {
    const error = body && body.error && body.error.code;
    if (status === 429) return "evaluation.error.too_many";
    if (error === "already_evaluated" || error === "not_returned") return "evaluation.error." + error;
    if (status === 404) return "dossier.error.unknown_dossier";
    if (status === 400 && ["bad_code", "check_needed", "bad_check"].includes(error)) return "dossier.error." + error;
    return "evaluation.error.network";
  }

  function question() {
    const q = QUESTIONS[at];
    say($("step"), "evaluation.step", { n: at + 1, of: QUESTIONS.length });
    say($("question-text"), q.key);
    $("choices").replaceChildren(...q.choices.map((value) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.dataset.value = String(value);
      button.dataset.tone = TONES[value];
      button.setAttribute("aria-pressed", String(answers[at] === value));
      say(button, q.say(value));
      button.addEventListener("click", () => choose(value));
      return button;
    }));
    show("question");
  }

  function choose(value) {
    answers[at] = value;
    at += 1;
    if (at < QUESTIONS.length) question();
    else { $("sending-problem").hidden = true; show("confirm"); }
  }

  function back() {
    if (at === 0) { show("intro"); return; }
    at -= 1;
    question();
  }

  // ---- the server ----------------------------------------------------------------------------

  function address() {
    // The page's own query goes along: whatever the public lookup asks besides the code, the evaluation asks too.
    return "/api/v1/dossiers/" + encodeURIComponent(code) + "/evaluation" + location.search;
  }

  async function call(method, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
    let answer;
    try {
      answer = await fetch(method === "SESSION" ? "/api/v1/auth/session" : address(), {
        method: method === "SESSION" ? "GET" : method, headers: headers, cache: "no-store", credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      return { status: 0, body: null };
    }
    let parsed = null;
    try { parsed = await answer.json(); } catch (error) { parsed = null; }
    return { status: answer.status, body: parsed };
  }

  async function open() {
    show("loading");
    const found = await call("GET");
    if (found.status !== 200) { problem(refusal(found.status, found.body), counter ? null : "/d/" + encodeURIComponent(code) + location.search); return; }
    if (!found.body.returned) { problem("evaluation.error.not_returned", counter ? null : "/d/" + encodeURIComponent(code) + location.search); return; }
    if (found.body.evaluated) { problem("evaluation.error.already_evaluated"); return; }
    code = found.body.code;
    answers = [];
    at = 0;
    $("code").textContent = code;
    say($("intro-text"), "evaluation.intro", { code: code });
    $("hand-over").hidden = !counter;
    show("intro");
  }

  async function send() {
    $("send").disabled = true;
    const nine = answers.slice(0, settings.indicators.length);
    const sent = await call("POST", { indicators: nine, convenience: answers[nine.length], overall: answers[nine.length + 1] });
    $("send").disabled = false;
    if (sent.status === 201) {
      $("next-dossier").hidden = !counter;
      show("thanks");
      return;
    }
    const key = refusal(sent.status, sent.body);
    if (key === "evaluation.error.network" || key === "evaluation.error.too_many") {
      say($("sending-problem"), key);   // the answers stay: the citizen tries again
      $("sending-problem").hidden = false;
      return;
    }
    problem(key);
  }

  function askCode() {
    $("code-input").value = "";
    show("code-form");
    $("code-input").focus();
  }

  // ---- start ---------------------------------------------------------------------------------

  async function start() {
    document.querySelectorAll("[data-say]").forEach((el) => say(el, el.dataset.say));
    document.documentElement.dataset.mode = settings.mode;
    document.title = text("vi", counter ? "evaluation.counter.title" : "evaluation.title");
    $("start").addEventListener("click", () => { at = 0; question(); });
    $("back").addEventListener("click", back);
    $("confirm-back").addEventListener("click", () => { at = QUESTIONS.length - 1; question(); });
    $("send").addEventListener("click", send);
    $("next-dossier").addEventListener("click", askCode);
    $("problem-next").addEventListener("click", askCode);
    $("code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const typed = $("code-input").value.trim().toUpperCase().replace(/\s+/g, "");
      if (!typed) { $("code-input").focus(); return; }
      code = typed;
      open();
    });
    if (counter) {
      const session = await call("SESSION");
      if (session.status !== 200) {
        location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
        return;
      }
      csrf = session.body.csrf;
      if (code) open(); else askCode();
    } else if (code) open();
    else problem("dossier.error.bad_code", "/d/");
  }

  start();
})();
