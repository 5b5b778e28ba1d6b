// The supplement loop on the staff pages: what a dossier waiting for a supplement asks for (note, kinds, the
// day it is due by, lapsed or not), the upload of a supplement's scan, and the counter's dialog where an
// officer of ANY branch finds the dossier by its code, attaches the supplement and sends it back to processing
// (POST /dossiers/{code}/supplement). Built on staff.js; the counter's dialog only when its page has one.
(function () {
  "use strict";
  const Staff = window.Staff;
  const $ = (id) => document.getElementById(id);
  const t = (key, values) => Staff.t(key, values);
  const enc = encodeURIComponent;
  const nameOf = (names, fallback) => (names ? names[Staff.lang()] || names.vi : fallback);
  const dayOf = (iso) => iso.split("-").reverse().join("/");

  // What is asked: a definition list of the note, the kinds, the due day (lapsed said in words) and where.
  function describe(asked) {
    const box = document.createElement("dl");
    box.className = "supplement-asked";
    const row = (key, value, className) => {
      const div = document.createElement("div");
      if (className) div.className = className;
      const dt = document.createElement("dt");
      dt.textContent = t(key);
      const dd = document.createElement("dd");
      if (value instanceof Node) dd.append(value); else dd.textContent = value;
      div.append(dt, dd);
      box.append(div);
      return dd;
    };
    row("supplement.asked", asked.note, "note");
    if (asked.kinds.length) row("supplement.kinds", asked.kinds.map((k) => nameOf(k.name, k.kind)).join(", "));
    const due = row("supplement.due", dayOf(asked.due), asked.lapsed ? "lapsed" : "");
    if (asked.lapsed) {
      const lapsed = document.createElement("strong");
      lapsed.className = "lapsed-pill";
      lapsed.textContent = " " + t("supplement.lapsed");
      due.append(lapsed);
    }
    return box;
  }

  // A scan uploaded to the dossier as a document of kind: {status, body} as Staff.api answers.
  async function upload(code, kind, file, csrf) {
    const form = new FormData();
    form.append("kind", kind);
    form.append("file", file);
    try {
      const sent = await fetch(`/api/v1/dossiers/${enc(code)}/documents`, {
        method: "POST", body: form, credentials: "same-origin", cache: "no-store",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf } });
      const type = sent.headers.get("Content-Type") || "";
      return { status: sent.status, body: type.startsWith("application/json") ? await sent.json() : null };
    } catch (failed) {
      return { status: 0, body: { error: { code: "network" } } };
    }
  }

  // A refusal in the officer's language: the supplement's words for its code, the dossier's, the document's.
  function refusal(answer) {
    const code = answer.body && answer.body.error ? answer.body.error.code : String(answer.status);
    for (const key of [`supplement.error.${code}`, `dossier.error.${code}`, `document.error.${code}`]) {
      if (t(key) !== key) return t(key);
    }
    return Staff.errorText(answer);
  }

  // ---- the counter's dialog ----------------------------------------------------------------------

  let found = null;      // the public view of the dossier found, as the server last answered
  let kinds = {};        // the catalogue's document kinds by code: {vi, en}

  function say(text, kind) {
    const box = $("s-message");
    box.textContent = text;
    box.className = `message ${kind || "ok"}`;
    box.hidden = !text;
  }

  async function openDialog() {
    found = null;
    $("s-code").value = "";
    $("s-check").value = "";
    $("s-found").hidden = true;
    say("");
    $("supplement-dialog").showModal();
    $("s-code").focus();
    if (!Object.keys(kinds).length) {
      const answer = await Staff.api("GET", "/procedures");
      for (const p of answer.status === 200 ? answer.body : []) for (const k of p.documents) kinds[k.kind] = k.name;
    }
  }

  async function find() {
    const code = $("s-code").value.trim().toUpperCase().replace(/\s+/g, "");
    if (!code) { $("s-code").focus(); return; }
    // An official code is looked up with the check printed beside it on the receipt (a code made before
    // carries its own): a mistyped code then never opens another citizen's dossier.
    const check = $("s-check").value.trim().toUpperCase();
    const answer = await Staff.api("GET", `/dossiers/${enc(code)}` + (check ? `?check=${enc(check)}` : ""));
    if (answer.status !== 200) { $("s-found").hidden = true; say(refusal(answer), "bad"); return; }
    found = answer.body;
    say(found.supplement ? "" : t("supplement.not_waiting"), "bad");
    render();
  }

  function render() {
    $("s-found").hidden = !found;
    if (!found) return;
    $("s-dossier").textContent = found.code;
    $("s-status").textContent = t(`dossier.status.${found.status}`);
    $("s-asked").replaceChildren(...(found.supplement ? [describe(found.supplement)] : []));
    $("s-attach").hidden = !found.supplement;
    // The kinds asked for first, then every other kind of the catalogue: the citizen may bring more.
    const asked = found.supplement ? found.supplement.kinds.map((k) => k.kind) : [];
    const order = [...asked, ...Object.keys(kinds).filter((k) => !asked.includes(k))];
    $("s-kind").replaceChildren(...order.map((k) => new Option(nameOf(kinds[k], k), k)));
  }

  async function attach() {
    // The browser's own file button speaks its own language: a label in ours opens it, and the chosen scan
    // is uploaded at once.
    const file = $("s-file").files[0];
    if (!found || !file) return;
    const answer = await upload(found.code, $("s-kind").value, file, Staff.current.csrf);
    if (answer.status !== 201) { say(refusal(answer), "bad"); return; }
    const item = document.createElement("li");
    item.textContent = `${nameOf(kinds[answer.body.kind], answer.body.kind)} · ${file.name}`;
    $("s-attached").append(item);
    $("s-file").value = "";
    say(t("supplement.attached"));
  }

  async function sendBack() {
    $("s-back").disabled = true;
    const answer = await Staff.api("POST", `/dossiers/${enc(found.code)}/supplement`);
    $("s-back").disabled = false;
    if (answer.status !== 200) { say(refusal(answer), "bad"); await find(); return; }
    found = answer.body;
    render();
    $("s-attached").replaceChildren();
    say(t("supplement.sent_back"));
  }

  function init() {
    if (!$("supplement-dialog")) return;
    $("supplement-open").addEventListener("click", openDialog);
    $("s-find").addEventListener("click", find);
    $("s-code").addEventListener("keydown", (event) => { if (event.key === "Enter") find(); });
    $("s-check").addEventListener("keydown", (event) => { if (event.key === "Enter") find(); });
    $("s-file").addEventListener("change", attach);
    $("s-back").addEventListener("click", sendBack);
  }

  window.Supplement = { describe, upload, refusal };
  init();
})();
