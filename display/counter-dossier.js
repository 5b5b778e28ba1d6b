// The counter console's dossier panel: the officer opens a dossier for the citizen at the desk (the
// ticket's service suggests the procedures), attaches the documents the citizen already has with one
// click, uploads the scans, opens the receipt to print and sends the dossier on to its department;
// a citizen back for a result is found by dossier code or ID number and handed the result. As the
// console, the panel keeps no truth of its own: every step shows the dossier the server answered.
(function () {
  "use strict";
  const Staff = window.Staff;
  const $ = (id) => document.getElementById(id);
  const CODE = /^[A-Za-z0-9]+([.-][A-Za-z0-9]+)*$/;   // an official code: 000.00.12.H29-261124-0001
  const ID_NUMBER = /^\d{12}$/;
  let ctx = null;        // from counter.js: branch, ticket(), branchName(id), say(text, kind)
  let dossier = null;    // the full view of the dossier being received, as the server last answered
  let reusable = [];     // the citizen's earlier documents the server offers for this dossier: [{sha256, kind, ...}]

  const t = (key, values) => Staff.t(key, values);
  const enc = encodeURIComponent;
  const nameOf = (names) => (names ? names[Staff.lang()] : "");
  const dayOf = (iso) => iso.split("-").reverse().join("/");   // 2026-11-27 → 27/11/2026, as on the receipt

  function init(context) {
    ctx = context;
    $("dossier-new").addEventListener("click", openNew);
    $("dossier-return").addEventListener("click", openReturn);
    $("d-open").addEventListener("click", submitNew);
    $("d-receipt").addEventListener("click", () => window.open(`/api/v1/dossiers/${enc(dossier.code)}/receipt.pdf`, "_blank"));
    $("d-send").addEventListener("click", sendOn);
    $("r-find").addEventListener("click", find);
    // A message about what was typed goes once the officer types again.
    $("d-form").addEventListener("input", () => show($("d-message"), ""));
    $("r-query").addEventListener("keydown", (event) => { if (event.key === "Enter") find(); });
    window.Cccd.init(cardScanned);
    // An ID number typed in full: what the centre holds for the citizen, as when the card is scanned.
    $("d-id").addEventListener("change", () => { if (ID_NUMBER.test($("d-id").value.trim())) window.Cccd.history($("d-id").value.trim()); });
    countReady();
    window.CounterIntake.init(context);
  }

  // A staff room's word that a dossier of the branch moved: the results to hand back and the unfinished intakes.
  function heard() {
    countReady();
    window.CounterIntake.count();
  }

  // How many results wait here to be collected, on the "hand back" button: counted again whenever the
  // staff room says a dossier of this branch moved (the department marked one ready, another desk
  // handed one back).
  async function countReady() {
    const answer = await Staff.api("GET", `/branches/${enc(ctx.branch)}/dossiers?status=result_ready`);
    if (answer.status !== 200) return;
    $("ready-count").textContent = String(answer.body.length);
    $("ready-count").hidden = answer.body.length === 0;
    return answer.body;
  }

  function error(box, answer) {
    const code = answer.body && answer.body.error ? answer.body.error.code : String(answer.status);
    // The refusal's details (a limit, say) go into its words, numbers written the officer's way.
    const details = (answer.body && answer.body.error && answer.body.error.details) || {};
    const decimals = (value) => (String(value).split(".")[1] || "").length;
    const params = Object.fromEntries(Object.entries(details).map(
      ([name, value]) => [name, typeof value === "number" ? Staff.number(value, decimals(value)) : value]));
    for (const key of [`cdossier.error.${code}`, `dossier.error.${code}`, `document.error.${code}`]) {
      if (t(key) !== key) { show(box, t(key, params), "bad"); return; }
    }
    show(box, Staff.errorText(answer), "bad");
  }

  function show(box, text, kind) {
    box.textContent = text;
    box.className = `message ${kind || "ok"}`;
    box.hidden = !text;
  }

  // ---- a new dossier ---------------------------------------------------------------------------

  async function openNew() {
    const ticket = ctx.ticket();
    dossier = null;
    $("d-form").hidden = false;
    $("d-received").hidden = true;
    show($("d-message"), "");
    $("d-ticket").textContent = ticket ? t("cdossier.for_ticket", { number: ticket.number }) : t("cdossier.no_ticket");
    const answer = await Staff.api("GET", ticket ? `/procedures?service=${enc(ticket.service)}` : "/procedures");
    const procedures = answer.status === 200 ? answer.body : [];
    $("d-procedure").replaceChildren(...procedures.map((p) => new Option(`${p.code} — ${nameOf(p.name)}`, p.code)));
    $("d-return").replaceChildren(...ctx.branches().map((id) => new Option(ctx.branchName(id), id, false, id === ctx.branch)));
    for (const id of ["d-id", "d-name", "d-phone"]) $(id).value = "";
    window.Cccd.clear();
    $("d-lang").value = "vi";
    $("new-dialog").showModal();
    $("d-id").focus();
    await window.Cccd.prefill(ticket);
  }

  // A citizen's ID card scanned on the form: the server reads it into the form, then what the centre holds.
  async function cardScanned(text) {
    const card = await window.Cccd.read(text, (answer) => error($("d-message"), answer));
    if (!card) return;
    show($("d-message"), t("cccd.read", { name: card.name }));
    await window.Cccd.history(card.id_number);
  }

  async function submitNew() {
    const idNumber = $("d-id").value.trim();
    if (!ID_NUMBER.test(idNumber)) { show($("d-message"), t("dossier.error.bad_id_number"), "bad"); return; }
    const ticket = ctx.ticket();
    const body = { procedure: $("d-procedure").value, return_branch: $("d-return").value,
      citizen: { id_number: idNumber, name: $("d-name").value.trim(), phone: $("d-phone").value.trim(),
        lang: $("d-lang").value, birth_date: $("d-birth").value, address: $("d-address").value.trim() } };
    if (ticket) body.ticket = ticket.id;
    $("d-open").disabled = true;
    const answer = await Staff.api("POST", "/dossiers", body);
    $("d-open").disabled = false;
    if (answer.status !== 201) { error($("d-message"), answer); return; }
    dossier = answer.body;
    await loadOffers();
    show($("d-message"), t("cdossier.opened", { code: dossier.code }));
    $("d-form").hidden = true;
    $("d-received").hidden = false;
    renderReceived();
  }

  // Only what may serve this dossier: reusable kinds its procedure requires, within their validity (the server's).
  async function loadOffers() {
    const found = await Staff.api("GET", `/dossiers/${enc(dossier.code)}/offers`);
    reusable = found.status === 200 ? found.body : [];
  }

  // An intake left open (its dialog closed, its browser gone) reopened by any officer of the branch at its
  // documents, as it was left; then(): called once it opens. A refusal in words, or null.
  async function resume(code, then) {
    const answer = await Staff.api("GET", `/dossiers/${enc(code)}/full`);
    if (answer.status !== 200) {
      const box = document.createElement("div");
      error(box, answer);
      return box.textContent;
    }
    dossier = answer.body;
    await loadOffers();
    if (then) then();
    $("d-ticket").textContent = "";
    $("d-form").hidden = true;
    $("d-received").hidden = false;
    show($("d-message"), t("intake.resumed", { code: dossier.code }));
    renderReceived();
    $("new-dialog").showModal();
    return null;
  }

  function renderReceived() {
    $("d-code").textContent = dossier.code;
    // An official code's check, which its public lookup asks for (the receipt prints it; a code made before: none).
    $("d-check").hidden = !dossier.check;
    $("d-check").textContent = dossier.check ? t("cdossier.check", { check: dossier.check }) : "";
    $("d-due").textContent = t("cdossier.due", { date: dayOf(dossier.due_date) });
    $("d-status").textContent = t(`dossier.status.${dossier.status}`);
    const attached = new Map(dossier.documents.map((d) => [d.kind, d]));
    $("d-documents").replaceChildren(...dossier.required_documents.map((kind) => {
      const row = document.createElement("li");
      row.dataset.kind = kind.kind;
      const name = document.createElement("strong");
      name.textContent = nameOf(kind.name);
      const what = document.createElement("span");
      what.className = "doc-state";
      row.append(name, what);
      const have = attached.get(kind.kind);
      if (have) {
        row.classList.add("attached");
        what.textContent = t(have.reused ? "cdossier.reused" : "cdossier.uploaded");
        return row;
      }
      const earlier = reusable.find((d) => d.kind === kind.kind);
      if (earlier) {
        const reuse = button("cdossier.reuse", () => attach({ reuse: earlier.sha256, kind: kind.kind }));
        reuse.className = "small good";
        reuse.dataset.do = "reuse";
        what.textContent = t("cdossier.has_one", { date: dayOf(String(earlier.created_at).slice(0, 10)) });
        row.append(reuse);
      }
      // The browser's own file button speaks its own language: a label in ours opens it, and the
      // chosen scan is uploaded at once.
      const pick = document.createElement("label");
      pick.className = "small upload";
      pick.textContent = t("cdossier.upload");
      const file = document.createElement("input");
      file.type = "file";
      file.accept = "application/pdf,image/jpeg,image/png";
      file.dataset.do = "file";
      file.addEventListener("change", () => upload(kind.kind, file));
      pick.append(file);
      row.append(pick);
      if (dossier.status === "received") row.append(window.CounterIntake.reasonPicker(dossier, kind));
      return row;
    }));
    const sent = dossier.status !== "received" && dossier.status !== "digitized";
    $("d-send").disabled = sent;
  }

  async function attach(body) {
    const answer = await Staff.api("POST", `/dossiers/${enc(dossier.code)}/documents`, body);
    await afterAttach(answer);
  }

  async function upload(kind, input) {
    if (!input.files.length) return;   // the officer closed the file picker without choosing
    const form = new FormData();
    form.append("kind", kind);
    form.append("file", input.files[0]);
    let answer;
    try {
      const sent = await fetch(`/api/v1/dossiers/${enc(dossier.code)}/documents`, {
        method: "POST", body: form, credentials: "same-origin", cache: "no-store",
        headers: { "Accept": "application/json", "X-CSRF-Token": ctx.session.csrf } });
      const type = sent.headers.get("Content-Type") || "";
      answer = { status: sent.status, body: type.startsWith("application/json") ? await sent.json() : null };
    } catch (failed) {
      answer = { status: 0, body: { error: { code: "network" } } };
    }
    await afterAttach(answer);
  }

  async function afterAttach(answer) {
    if (answer.status !== 201) { error($("d-message"), answer); return; }
    show($("d-message"), t("cdossier.attached"));
    await reload();
  }

  async function reload() {
    const answer = await Staff.api("GET", `/dossiers/${enc(dossier.code)}/full`);
    if (answer.status === 200) { dossier = answer.body; renderReceived(); }
  }

  // Digitised at the counter, then with the competent department: two steps of the path, one press.
  // Each required document not attached needs its reason first (motcua.core.intake).
  async function sendOn() {
    const why = window.CounterIntake.reasons(dossier);
    if (dossier.status === "received" && why.unexplained.length) { show($("d-message"), why.text, "bad"); return; }
    for (const status of ["digitized", "processing"]) {
      if (status === "digitized" && dossier.status !== "received") continue;
      const body = status === "digitized" ? { status, missing: why.missing } : { status };
      const answer = await Staff.api("POST", `/dossiers/${enc(dossier.code)}/status`, body);
      if (answer.status !== 200) { error($("d-message"), answer); await reload(); return; }
      dossier = answer.body;
    }
    renderReceived();
    window.CounterIntake.count();
    show($("d-message"), t("cdossier.sent", { department: nameOf(dossier.department_name) || dossier.department }));
  }

  // ---- a citizen back for a result ---------------------------------------------------------------

  async function openReturn() {
    $("r-query").value = "";
    show($("r-message"), "");
    $("return-dialog").showModal();
    $("r-query").focus();
    list((await countReady()) || [], "cdossier.ready_here");
  }

  async function find() {
    const query = $("r-query").value.trim().toUpperCase();
    if (ID_NUMBER.test(query)) {
      const answer = await Staff.api("GET", `/citizens/${enc(query)}/dossiers`);
      if (answer.status !== 200) { error($("r-message"), answer); return; }
      list(answer.body, "cdossier.found");
      if (!answer.body.length) show($("r-message"), t("cdossier.none_found"), "bad");
      return;
    }
    if (!CODE.test(query)) { show($("r-message"), t("cdossier.query_help"), "bad"); return; }
    const answer = await Staff.api("GET", `/dossiers/${enc(query)}/full`);
    if (answer.status !== 200) { error($("r-message"), answer); return; }
    const d = answer.body;
    list([{ ...d, citizen_name: d.citizen.name }], "cdossier.found");
  }

  function list(rows, titleKey) {
    show($("r-message"), $("r-message").classList.contains("bad") ? $("r-message").textContent : "");
    $("r-title").textContent = t(titleKey, { count: rows.length });
    $("r-rows").replaceChildren(...rows.map((d) => {
      const { row, actions: td } = dossierRow(d);
      if (d.status === "result_ready") {
        const give = button("cdossier.hand_back", () => handBack(d.code));
        give.className = "small good";
        give.dataset.do = "return";
        td.append(give);
      }
      // Handed back: the counter's tablet asks the citizen the statutory evaluation (display/evaluation.js).
      if (d.status === "returned") {
        const ask = document.createElement("a");
        ask.className = "button small";
        ask.dataset.do = "evaluate";
        ask.href = `/counter/evaluate?code=${enc(d.code)}`;
        ask.target = "_blank";
        ask.textContent = t("cdossier.evaluate");
        td.append(ask);
      }
      // An intake not finished here is resumed, not handed back.
      if (window.CounterIntake.UNFINISHED.includes(d.status) && d.branch === ctx.branch) {
        td.append(window.CounterIntake.resumeButton(d.code, $("return-dialog"), $("r-message")));
      }
      return row;
    }));
  }

  // A dossier's line in a list: its code, procedure, citizen and status, the texts of more cells, then its
  // actions' cell (empty).
  function dossierRow(d, more) {
    const row = document.createElement("tr");
    row.dataset.code = d.code;
    const cells = [["r-code", d.code], ["", nameOf(d.procedure_name) || d.procedure], ["", d.citizen_name],
      ["", t(`dossier.status.${d.status}`)], ...(more || []).map((text) => ["", text])];
    for (const [className, text] of cells) {
      const td = document.createElement("td");
      td.className = className;
      td.textContent = text;
      row.append(td);
    }
    const actions = document.createElement("td");
    actions.className = "row-actions";
    row.append(actions);
    return { row, actions };
  }

  async function handBack(code) {
    const answer = await Staff.api("POST", `/dossiers/${enc(code)}/status`, { status: "returned" });
    if (answer.status !== 200) { error($("r-message"), answer); return; }
    list([{ ...answer.body, citizen_name: answer.body.citizen.name }], "cdossier.found");
    show($("r-message"), t("cdossier.returned", { code }));
    ctx.say(t("cdossier.returned", { code }));
    countReady();
  }

  function button(key, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small";
    b.textContent = t(key);
    b.addEventListener("click", onClick);
    return b;
  }

  window.CounterDossier = { init, heard, resume, dossierRow };
})();
