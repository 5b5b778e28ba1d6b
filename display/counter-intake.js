// Intake that cannot go wrong, at the counter (motcua.core.intake): before "Số hoá xong" the officer gives a
// reason for each required document not attached, and the branch's unfinished intakes (a dialog closed by Esc,
// a browser closed) are listed at each of its counters, where any officer resumes one.
(function () {
  "use strict";
  const Staff = window.Staff;
  const $ = (id) => document.getElementById(id);
  // The reasons the server takes, in its order (motcua.core.intake.REASONS: a test holds the two together).
  const REASONS = ["issued_here", "population_database", "national_database", "held_earlier", "other"];
  const OTHER = "other";
  const t = (key, values) => Staff.t(key, values);
  const nameOf = (names) => (names ? names[Staff.lang()] : "");
  let ctx = null;          // from counter.js: branch, say(text, kind)
  let chosen = { code: null, kinds: new Map() };   // the reasons picked for the dossier open: kind -> {reason, note}

  function init(context) {
    ctx = context;
    $("intake-open").addEventListener("click", openList);
    count();
  }

  // ---- why a required document is missing ------------------------------------------------------

  // The picker in the row of a required kind not attached; what was picked stays while the list is redrawn.
  function reasonPicker(dossier, kind) {
    if (chosen.code !== dossier.code) chosen = { code: dossier.code, kinds: new Map() };
    const had = chosen.kinds.get(kind.kind) || { reason: "", note: "" };
    const box = document.createElement("span");
    box.className = "missing-reason";
    const select = document.createElement("select");
    select.dataset.reason = kind.kind;
    select.setAttribute("aria-label", t("intake.reason_label", { name: nameOf(kind.name) }));
    select.append(new Option(t("intake.reason_pick"), ""), ...REASONS.map((r) => new Option(t(`intake.reason.${r}`), r)));
    select.value = had.reason;
    const note = document.createElement("input");
    note.dataset.reasonNote = kind.kind;
    note.maxLength = 200;
    note.autocomplete = "off";
    note.placeholder = t("intake.other_placeholder");
    note.setAttribute("aria-label", t("intake.other_label", { name: nameOf(kind.name) }));
    note.value = had.note;
    note.hidden = had.reason !== OTHER;
    const keep = () => chosen.kinds.set(kind.kind, { reason: select.value, note: note.value });
    select.addEventListener("change", () => {
      keep();
      $("d-message").hidden = true;   // a refusal about the reasons goes once one is chosen
      note.hidden = select.value !== OTHER;
      if (!note.hidden) note.focus();
    });
    note.addEventListener("input", keep);
    box.append(select, note);
    return box;
  }

  // The reasons to send for the kinds not attached, and the names of those still without one.
  function reasons(dossier) {
    const attached = new Set(dossier.documents.map((d) => d.kind));
    const missing = [];
    const unexplained = [];
    for (const kind of dossier.required_documents) {
      if (attached.has(kind.kind)) continue;
      const picked = chosen.code === dossier.code ? chosen.kinds.get(kind.kind) : null;
      const note = picked ? picked.note.trim() : "";
      if (!picked || !picked.reason || (picked.reason === OTHER && !note)) unexplained.push(nameOf(kind.name));
      else missing.push({ kind: kind.kind, reason: picked.reason, note: picked.reason === OTHER ? note : "" });
    }
    return { missing, unexplained, text: t("intake.missing_reasons", { kinds: unexplained.join(t("list.separator")) }) };
  }

  // ---- unfinished intakes -----------------------------------------------------------------------

  // How many intakes of the branch are unfinished, on the button: again whenever a dossier of the branch moves.
  async function count() {
    const answer = await Staff.api("GET", `/branches/${encodeURIComponent(ctx.branch)}/intakes`);
    if (answer.status !== 200) return null;
    $("intake-count").textContent = String(answer.body.length);
    $("intake-count").hidden = answer.body.length === 0;
    return answer.body;
  }

  async function openList() {
    $("i-message").hidden = true;
    $("intakes-dialog").showModal();
    render((await count()) || []);
  }

  // 2026-11-24T08:05:00+07:00 → 24/11 08:05: the server's local time as it wrote it.
  function localTime(iso) {
    const [day, time] = iso.split("T");
    return `${day.split("-").reverse().slice(0, 2).join("/")} ${time.slice(0, 5)}`;
  }

  function render(rows) {
    $("i-title").textContent = t("intake.unfinished_title", { count: rows.length });
    $("i-none").hidden = rows.length > 0;
    $("i-rows").replaceChildren(...rows.map((d) => {
      const { row, actions } = window.CounterDossier.dossierRow(d, [localTime(d.received_at)]);
      actions.append(resumeButton(d.code, $("intakes-dialog"), $("i-message")));
      return row;
    }));
  }

  // "Resume": the intake dialog reopens on the dossier, at its documents; from dialog, whose message box says
  // a refusal.
  function resumeButton(code, dialog, box) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small good";
    b.dataset.do = "resume";
    b.textContent = t("intake.resume");
    b.addEventListener("click", async () => {
      const refused = await window.CounterDossier.resume(code, () => dialog.close());
      if (refused) { box.textContent = refused; box.className = "message bad"; box.hidden = false; }
    });
    return b;
  }

  window.CounterIntake = { init, count, reasonPicker, reasons, resumeButton, UNFINISHED: ["received", "digitized"] };
})();
