// The public lookup of a dossier /d/{code}, from the QR code on the receipt: its status, the due
// date (overdue said plainly), what the citizen does next and the timeline. It reads only the
// public view, which carries no name, ID number, phone or documents. Vietnamese first, English below.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const settings = JSON.parse($("motcua-settings").textContent);
  const texts = settings.texts;
  // The path a dossier normally takes; a step not reached yet is shown greyed after the last one.
  const PATH = ["received", "digitized", "processing", "result_ready", "returned"];
  const FINAL = ["returned", "rejected"];

  // ---- text ----------------------------------------------------------------------------------

  function text(lang, key, values) {
    const template = texts[lang][key] !== undefined ? texts[lang][key] : (texts.vi[key] || key);
    return template.replace(/\{(\w+)\}/g, (_, name) => String((values || {})[name] ?? ""));
  }

  function pair(vi, en) {
    const a = document.createElement("div");
    a.className = "vi";
    a.textContent = vi;
    const b = document.createElement("div");
    b.className = "en";
    b.lang = "en";
    b.textContent = en;
    return [a, b];
  }

  // The catalogue text in both languages; values may differ per language (a date, a branch's name).
  function say(el, key, values) {
    const per = (lang) => Object.fromEntries(Object.entries(values || {}).map(([k, v]) => [k, typeof v === "object" ? v[lang] : v]));
    el.replaceChildren(...pair(text("vi", key, per("vi")), text("en", key, per("en"))));
  }

  // "2026-11-24" → "24/11/2026", day first, as in Vietnam.
  function digits(iso) {
    const [y, m, d] = iso.split("-");
    return d + "/" + m + "/" + y;
  }

  function day(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
    return { vi: texts.vi.weekday[weekday] + ", " + digits(iso), en: texts.en.weekday[weekday] + ", " + digits(iso) };
  }

  function branchName(id) {
    return settings.branches[id] || { vi: id, en: id };
  }

  // ---- what the page shows -------------------------------------------------------------------

  function show(state) {
    document.body.dataset.state = state;
    $("loading").hidden = state !== "loading";
    $("problem").hidden = !["bad_code", "check_needed", "bad_check", "unknown_dossier", "network"].includes(state);
    $("dossier").hidden = $("timeline-card").hidden = state !== "found";
    $("empty").hidden = state !== "empty";
  }

  function problem(code) {
    const title = { bad_code: "dossier.error.bad_code", check_needed: "dossier.error.check_needed",
                    bad_check: "dossier.error.bad_check", unknown_dossier: "dossier.error.unknown_dossier",
                    network: "dpages.d.network" }[code];
    const hint = { bad_code: "dpages.d.bad_code_hint", check_needed: "dpages.d.check_hint", bad_check: "dpages.d.check_hint",
                   unknown_dossier: "dpages.d.unknown_hint" }[code];
    say($("problem-title"), title);
    if (hint) say($("problem-hint"), hint); else $("problem-hint").replaceChildren();
    show(code);
  }

  function render(view) {
    $("code").textContent = view.code;
    const procedure = settings.procedures[view.procedure];
    $("procedure").replaceChildren(...(procedure ? pair(procedure.vi, procedure.en) : pair(view.procedure, view.procedure)));
    $("status").dataset.status = view.status;
    say($("status"), "dossier.status." + view.status);
    const due = day(view.due_date);
    $("overdue").hidden = !view.overdue;
    if (view.overdue) say($("overdue"), "dpages.d.overdue", { due: due });
    $("due").replaceChildren(...pair(due.vi, due.en));
    $("due").classList.toggle("late", view.overdue);
    $("waited").hidden = !view.waited_days;
    if (view.waited_days) say($("waited"), "supplement.waited", { days: view.waited_days });
    supplement(view.supplement);
    const branch = branchName(view.return_branch);
    $("return-branch").replaceChildren(...pair(branch.vi, branch.en));
    const next = ["digitized", "processing"].includes(view.status) ? "received" : view.status;
    say($("next"), "dpages.d.next." + next, { branch: branch });
    $("next").dataset.status = view.status;
    timeline(view);
    // The result handed back: the citizen may evaluate the dossier (display/evaluation.js), the page's query along.
    $("evaluate").hidden = view.status !== "returned";
    $("evaluate").href = "/e/" + encodeURIComponent(view.code) + location.search;
    document.title = view.code + " · " + text("vi", "dpages.d.title");
    show("found");
  }

  // What a supplement asked for needs, by when and where: the department's note is shown as written.
  function supplement(asked) {
    $("supplement").hidden = !asked;
    if (!asked) return;
    $("supplement-note").textContent = asked.note;
    $("supplement-kinds-box").hidden = !asked.kinds.length;
    $("supplement-kinds").replaceChildren(...asked.kinds.map((k) => {
      const li = document.createElement("li");
      li.replaceChildren(...pair((k.name || {}).vi || k.kind, (k.name || {}).en || k.kind));
      return li;
    }));
    const due = day(asked.due);
    $("supplement-due").replaceChildren(...pair(due.vi, due.en));
    $("supplement-due").classList.toggle("late", asked.lapsed);
    $("supplement-lapsed").hidden = !asked.lapsed;
    if (asked.lapsed) say($("supplement-lapsed"), "supplement.lapsed");
    say($("supplement-where"), "supplement.where", { department: asked.department_name || { vi: "", en: "" } });
  }

  function timeline(view) {
    const items = view.history.map((step) => {
      const li = document.createElement("li");
      li.className = "done";
      li.dataset.status = step.status;
      const label = document.createElement("div");
      label.className = "step";
      say(label, "dossier.status." + step.status);
      const when = document.createElement("time");
      when.dateTime = step.on;   // the public view gives the day of a step, never its hour
      when.textContent = digits(step.on);
      li.append(label, when);
      return li;
    });
    if (items.length) items[items.length - 1].classList.add("current");
    if (!FINAL.includes(view.status)) {
      // A dossier waiting for a supplement stands at "processing" on the path.
      const here = PATH.indexOf(view.status === "supplement_requested" ? "processing" : view.status);
      for (const status of PATH.slice(here + 1)) {
        const li = document.createElement("li");
        li.className = "later";
        li.dataset.status = status;
        const label = document.createElement("div");
        label.className = "step";
        say(label, "dossier.status." + status);
        const note = document.createElement("div");
        note.className = "hint";
        say(note, "dpages.d.later");
        li.append(label, note);
        items.push(li);
      }
    }
    $("timeline").replaceChildren(...items);
  }

  // An official code is looked up with the check printed beside it (the receipt's QR link carries it).
  async function load(code, check) {
    show("loading");
    let answer;
    const query = check ? "?check=" + encodeURIComponent(check) : "";
    try {
      answer = await fetch("/api/v1/dossiers/" + encodeURIComponent(code) + query,
                           { cache: "no-store", headers: { "Accept": "application/json" } });
    } catch (error) {
      problem("network");
      return;
    }
    if (answer.ok) { render(await answer.json()); return; }
    let body = null;
    try { body = await answer.json(); } catch (error) { body = null; }
    const code_ = body && body.error && body.error.code;
    // A 404 of a well-formed code is "nobody was given this code"; anything else unreadable is a
    // code that is not right (never someone else's dossier).
    if (answer.status === 404) problem("unknown_dossier");
    else if (code_ === "check_needed" || code_ === "bad_check") problem(code_);
    else if (answer.status === 400) problem("bad_code");
    else problem("network");
  }

  // ---- start ---------------------------------------------------------------------------------

  document.querySelectorAll("[data-say]").forEach((el) => say(el, el.dataset.say));
  document.title = text("vi", "dpages.d.title");   // what the page is, in the tab and to a screen reader
  $("code-input").value = settings.code;
  $("check-input").value = settings.check;
  $("lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = $("code-input").value.trim().toUpperCase().replace(/\s+/g, "");
    const check = $("check-input").value.trim().toUpperCase().replace(/\s+/g, "");
    if (!typed) { $("code-input").focus(); return; }
    location.assign("/d/" + encodeURIComponent(typed) + (check ? "?check=" + encodeURIComponent(check) : ""));
  });
  if (settings.mistyped) problem("bad_code");
  else if (settings.code) load(settings.code, settings.check);
  else show("empty");
})();
