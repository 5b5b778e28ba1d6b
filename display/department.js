// The competent department's page /department: its work queue (oldest due first, overdue marked),
// a dossier's full view, and the moves that are the department's: ask for a supplement with a
// note, carry on once it came, mark the result ready, reject with a reason. Built on staff.js.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = Staff.t;
  // The dossier events go to the branches' staff rooms, not to departments: the list is asked
  // again this often, when the page comes back into view, and after each move made here.
  const REFRESH_MS = 30000;
  // The department's moves from each status it acts on; those in NEEDS_NOTE open the note form.
  const MOVES = { processing: ["supplement_requested", "result_ready", "rejected"],
                  supplement_requested: ["processing", "rejected"] };
  const NEEDS_NOTE = ["supplement_requested", "rejected"];

  let session = null;
  let department = null;     // the department code shown
  let departments = {};      // code -> {vi, en}
  let branches = {};         // id -> {vi, en}
  let queue = [];
  let opened = null;         // the full view shown on the right
  let pending = null;        // the move whose note is being written
  let updatedAt = null;

  const local = (options) => new Intl.DateTimeFormat("en-GB", { timeZone: Staff.settings.timezone, hour12: false, ...options });
  const dayFormat = local({ day: "2-digit", month: "2-digit", year: "numeric" });
  const momentFormat = local({ day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });
  const timeFormat = local({ hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const day = (iso) => { const [y, m, d] = iso.split("-"); return d + "/" + m + "/" + y; };
  const moment = (iso) => (iso ? momentFormat.format(new Date(iso)).replace(",", "") : "");
  const name = (pair, fallback) => (pair ? pair[Staff.lang()] || pair.vi : fallback);
  const statusText = (status) => t("dossier.status." + status);

  // A refusal in the person's language: the dossier catalogue's words for its code, else staff.js's.
  function errorText(result) {
    const error = result && result.body && result.body.error;
    if (error) {
      const key = "dossier.error." + error.code;
      if (t(key) !== key) return t(key);
    }
    return Staff.errorText(result);
  }

  function message(text, kind) {
    $("message").textContent = text;
    $("message").className = "banner " + kind;
    $("message").hidden = !text;
  }

  function who() {
    const el = $("staff-who");
    const role = session.role === "department" ? t("dpages.dept.role") : t("staff.role." + session.role);
    const where = department ? name(departments[department], department) : session.branch;
    if (el) el.textContent = [session.username, role, where].filter(Boolean).join(" · ");
  }

  function cell(row, content, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (content instanceof Node) td.append(content); else td.textContent = content;
    row.append(td);
    return td;
  }

  function pill(text, kind) {
    const span = document.createElement("span");
    span.className = "pill " + kind;
    span.textContent = text;
    return span;
  }

  function statusKind(status) {
    return { supplement_requested: "warn", result_ready: "ok", returned: "ok", rejected: "bad" }[status] || "none";
  }

  // ---- the queue -----------------------------------------------------------------------------

  async function loadQueue() {
    if (!department) return;
    const result = await Staff.api("GET", "/departments/" + encodeURIComponent(department) + "/dossiers");
    if (result.status !== 200) { message(errorText(result), "bad"); return; }
    queue = result.body;
    updatedAt = new Date();
    renderQueue();
  }

  function renderQueue() {
    const rows = queue.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.code = d.code;
      tr.classList.toggle("overdue", d.overdue);
      tr.classList.toggle("selected", Boolean(opened && opened.code === d.code));
      const open = document.createElement("button");
      open.type = "button";
      open.className = "open";
      open.textContent = d.code;
      if (opened && opened.code === d.code) open.setAttribute("aria-current", "true");   // the tint is not all
      open.addEventListener("click", () => openDossier(d.code));
      cell(tr, open, "code");
      cell(tr, name(d.procedure_name, d.procedure), "procedure");
      cell(tr, pill(statusText(d.status), statusKind(d.status)));
      cell(tr, d.branch + (d.return_branch !== d.branch ? " → " + d.return_branch : ""));
      cell(tr, moment(d.received_at), "when");
      const due = cell(tr, day(d.due_date) + " ", "due");
      if (d.overdue) due.append(pill(t("dossier.overdue"), "bad"));
      // A supplement not brought by its day: the department may reject the dossier.
      if (d.supplement && d.supplement.lapsed) due.append(pill(t("supplement.lapsed"), "bad"));
      tr.addEventListener("click", (event) => { if (event.target === tr || event.target.tagName === "TD") openDossier(d.code); });
      return tr;
    });
    $("queue").querySelector("tbody").replaceChildren(...rows);
    $("queue").hidden = !queue.length;
    $("queue-empty").hidden = queue.length > 0;
    $("count").textContent = t("dpages.dept.count", { count: queue.length, overdue: queue.filter((d) => d.overdue).length });
    $("updated").textContent = updatedAt ? t("dpages.dept.updated", { time: timeFormat.format(updatedAt) }) : "";
  }

  // ---- one dossier ---------------------------------------------------------------------------

  async function openDossier(code) {
    const result = await Staff.api("GET", "/dossiers/" + encodeURIComponent(code) + "/full");
    if (result.status !== 200) { message(errorText(result), "bad"); return; }
    if (!opened || opened.code !== code) { closeNote(); $("action-error").hidden = true; }
    opened = result.body;
    renderDossier();
    renderQueue();
  }

  function renderDossier() {
    const d = opened;
    $("pick-one").hidden = Boolean(d);
    $("dossier").hidden = !d;
    if (!d) return;
    $("d-code").textContent = d.code;
    $("d-status").textContent = statusText(d.status);
    $("d-status").className = "pill " + statusKind(d.status);
    $("d-overdue").hidden = !d.overdue;
    $("d-procedure").textContent = name(d.procedure_name, d.procedure) + " · " + name(d.department_name, d.department);
    $("d-name").textContent = d.citizen.name;
    $("d-id").textContent = d.citizen.id_number;
    $("d-phone").textContent = d.citizen.phone || "—";
    $("d-due").textContent = day(d.due_date);
    $("d-due").classList.toggle("bad", d.overdue);
    $("d-received").textContent = t("dpages.dept.received_line", { branch: name(branches[d.branch], d.branch),
                                                                   officer: d.officer.replace(/^staff:/, ""), at: moment(d.received_at) });
    $("d-return").textContent = name(branches[d.return_branch], d.return_branch);
    $("d-reason").hidden = !d.reject_reason;
    $("d-reason").textContent = d.reject_reason ? t("dpages.dept.reject_reason", { reason: d.reject_reason }) : "";
    renderSupplement();
    renderActions();
    renderDocuments();
    renderEvents();
  }

  // What the dossier waits for, and the upload of a supplement brought to the department itself.
  function renderSupplement() {
    const asked = opened.supplement;
    $("d-supplement").hidden = !asked;
    $("d-supplement").replaceChildren(...(asked ? [Supplement.describe(asked)] : []));
    $("d-supplement-upload").hidden = !asked;
    if (!asked) return;
    const first = asked.kinds.map((k) => k.kind);
    const order = [...first, ...opened.required_documents.map((k) => k.kind).filter((k) => !first.includes(k))];
    const names = Object.fromEntries(opened.required_documents.map((k) => [k.kind, k.name]));
    for (const k of asked.kinds) names[k.kind] = k.name;
    $("su-kind").replaceChildren(...order.map((k) => new Option(name(names[k], k), k)));
  }

  async function uploadSupplement() {
    const file = $("su-file").files[0];
    if (!file) return;   // the file picker closed without a choice
    const answer = await Supplement.upload(opened.code, $("su-kind").value, file, session.csrf);
    if (answer.status !== 201) {
      $("action-error").textContent = Supplement.refusal(answer);
      $("action-error").hidden = false;
      return;
    }
    $("su-file").value = "";
    message(t("supplement.attached"), "ok");
    await openDossier(opened.code);
  }

  function renderActions() {
    const moves = MOVES[opened.status] || [];
    const buttons = moves.map((to) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "big " + (to === "rejected" ? "danger" : to === "result_ready" ? "primary" : "");
      button.dataset.move = to;
      button.textContent = t("dpages.dept.action." + to);
      button.addEventListener("click", () => (NEEDS_NOTE.includes(to) ? openNote(to) : send(to, null)));
      return button;
    });
    if (!moves.length) {
      const none = document.createElement("p");
      none.className = "hint";
      none.textContent = t("dpages.dept.no_actions");
      buttons.push(none);
    }
    $("actions").replaceChildren(...buttons);
  }

  function renderDocuments() {
    const attached = opened.documents;
    const items = opened.required_documents.map((kind) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.className = "kind";
      label.textContent = name(kind.name, kind.kind);
      li.append(label);
      li.dataset.kind = kind.kind;
      const mine = attached.filter((doc) => doc.kind === kind.kind);
      if (!mine.length) li.append(pill(t("dpages.dept.doc.missing"), "warn"), ...missingReason(kind.kind));
      for (const doc of mine) li.append(documentLink(doc));
      return li;
    });
    // Documents of a kind the procedure does not list (attached by the counter all the same).
    for (const doc of attached.filter((d) => !opened.required_documents.some((k) => k.kind === d.kind))) {
      const li = document.createElement("li");
      li.textContent = doc.kind + " ";
      li.append(documentLink(doc));
      items.push(li);
    }
    $("d-documents").replaceChildren(...items);
  }

  // Why the counter sent the dossier on without this document, as the officer recorded it (motcua.core.intake).
  function missingReason(kind) {
    const given = (opened.missing_documents || []).find((m) => m.kind === kind);
    if (!given) return [];
    const why = document.createElement("span");
    why.className = "missing-reason";
    why.textContent = t(`intake.reason.${given.reason}`) + (given.note ? ": " + given.note : "");
    return [why];
  }

  function documentLink(doc) {
    const link = document.createElement("a");
    link.href = "/api/v1/dossiers/" + encodeURIComponent(opened.code) + "/documents/" + doc.sha256;
    link.textContent = t("dpages.dept.doc.open") + " (" + doc.mime.split("/")[1].toUpperCase() + ", "
      + Math.max(1, Math.round(doc.size / 1024)) + " KB)" + (doc.reused ? " · " + t("dpages.dept.doc.reused") : "");
    return link;
  }

  const actor = (e) => (e.actor || "").replace(/^staff:/, "") + (e.branch ? " · " + e.branch : "");

  function renderEvents() {
    const kinds = Object.fromEntries(opened.required_documents.map((k) => [k.kind, k.name]));
    const rows = opened.events.slice().reverse().map((e) => {
      const tr = document.createElement("tr");
      cell(tr, moment(e.at), "when");
      // An event that changes nothing is about a document (attached, read): its note names which.
      const about = e.from_status === e.status ? /^(document_[a-z_]+):([0-9a-f]+)$/.exec(e.note || "") : null;
      const key = about ? "dpages.dept.ev." + about[1] : null;
      if (about && t(key) !== key) {
        const doc = opened.documents.find((d) => d.sha256 === about[2]);
        cell(tr, t(key));
        cell(tr, actor(e), "actor");
        cell(tr, doc ? name(kinds[doc.kind], doc.kind) : about[2].slice(0, 12), "note");
        return tr;
      }
      cell(tr, e.from_status && e.from_status !== e.status
        ? statusText(e.from_status) + " → " + statusText(e.status) : statusText(e.status));
      cell(tr, actor(e), "actor");
      cell(tr, e.note || "", "note");
      return tr;
    });
    $("d-events").querySelector("tbody").replaceChildren(...rows);
  }

  // ---- moves ---------------------------------------------------------------------------------

  function openNote(to) {
    pending = to;
    $("note-label").textContent = t("dpages.dept.note." + to);
    $("note-send").textContent = t("dpages.dept.send." + to);
    $("note-send").className = "big " + (to === "rejected" ? "danger" : "primary");
    $("note").value = "";
    // A supplement may name the documents it asks for: the procedure's, ticked here.
    $("note-kinds").hidden = to !== "supplement_requested";
    $("note-kinds-list").replaceChildren(...(to === "supplement_requested" ? opened.required_documents : []).map((k) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = k.kind;
      label.append(box, " " + name(k.name, k.kind));
      return label;
    }));
    noteRefused(false);
    $("note-form").hidden = false;
    $("action-error").hidden = true;
    $("note").focus();
  }

  function closeNote() {
    pending = null;
    $("note-form").hidden = true;
    noteRefused(false);
  }

  // A note refused (a reason is needed) is marked and described by what was said, and focused again.
  function noteRefused(refused) {
    const note = $("note");
    if (refused) {
      note.setAttribute("aria-invalid", "true");
      note.setAttribute("aria-describedby", "action-error");
      note.focus();
      $("action-error").scrollIntoView({ block: "nearest" });   // just above the form: both in view
    } else {
      note.removeAttribute("aria-invalid");
      note.removeAttribute("aria-describedby");
    }
  }

  async function send(to, note) {
    const code = opened.code;
    document.querySelectorAll("#actions button, #note-send").forEach((b) => { b.disabled = true; });
    const body = { status: to, note: note };
    const kinds = [...document.querySelectorAll("#note-kinds-list input:checked")].map((box) => box.value);
    if (to === "supplement_requested" && kinds.length) body.kinds = kinds;
    const result = await Staff.api("POST", "/dossiers/" + encodeURIComponent(code) + "/status", body);
    document.querySelectorAll("#actions button, #note-send").forEach((b) => { b.disabled = false; });
    if (result.status !== 200) {
      $("action-error").textContent = errorText(result);
      $("action-error").hidden = false;
      if (!$("note-form").hidden) noteRefused(true);
      // Moved by someone else meanwhile: show where it stands now.
      if (result.status === 409) { await openDossier(code); await loadQueue(); }
      return;
    }
    closeNote();
    $("action-error").hidden = true;
    opened = result.body;
    renderDossier();
    message(t("dpages.dept.moved", { code: code, status: statusText(opened.status) }), "ok");
    await loadQueue();
  }

  $("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (pending) send(pending, $("note").value.trim() || null);
  });
  $("note-cancel").addEventListener("click", closeNote);
  $("su-file").addEventListener("change", uploadSupplement);
  $("refresh").addEventListener("click", refresh);

  async function refresh() {
    await loadQueue();
    if (opened) await openDossier(opened.code);
  }

  // ---- start ---------------------------------------------------------------------------------

  function relabel() {
    who();
    $("department-name").textContent = name(departments[department], department || "");
    renderQueue();
    if (opened) renderDossier();
    if (pending) { $("note-label").textContent = t("dpages.dept.note." + pending); $("note-send").textContent = t("dpages.dept.send." + pending); }
  }

  async function start() {
    session = await Staff.session();
    Staff.header("dpages.dept.title", relabel);
    department = session.role === "department" ? session.department : null;
    who();   // staff.js names the staff roles only: the department's words replace its line at once
    const [listed, network] = await Promise.all([Staff.api("GET", "/departments"), Staff.api("GET", "/branches")]);
    for (const d of listed.status === 200 ? listed.body : []) departments[d.code] = d.name;
    for (const b of network.status === 200 ? network.body : []) branches[b.id] = b.name;
    if (session.role === "admin") {
      // An admin looks at any department's work: chosen here, kept in the address.
      const select = $("department-select");
      for (const [code, names] of Object.entries(departments)) {
        const option = document.createElement("option");
        option.value = code;
        option.textContent = name(names, code);
        select.append(option);
      }
      department = new URLSearchParams(location.search).get("department") || Object.keys(departments)[0];
      select.value = department;
      select.addEventListener("change", () => {
        department = select.value;
        history.replaceState(null, "", "?department=" + encodeURIComponent(department));
        opened = null;
        renderDossier();
        who();
        $("department-name").textContent = name(departments[department], department);
        loadQueue();
      });
      $("department-pick").hidden = false;
    } else if (session.role !== "department") {
      $("refusal").textContent = t("dpages.dept.not_department");
      $("refusal").hidden = false;
      document.querySelector(".tools").hidden = true;
      who();
      return;
    }
    who();
    $("department-name").textContent = name(departments[department], department);
    $("work").hidden = false;
    renderDossier();
    await loadQueue();
    setInterval(loadQueue, REFRESH_MS);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  }

  start();
})();
