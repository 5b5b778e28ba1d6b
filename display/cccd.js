// The citizen's ID card (CCCD) at the counter. A 2D scanner types the card's QR code as keystrokes ending
// with Enter: on the dossier intake form, wherever the focus is, a scan is told from typing by its shape (12
// digits, then "|") and its speed, its keys are taken off the field they fell in, the server reads the card
// (POST /cards, the one parser) and the form gets the citizen's ID number, name, date of birth and address,
// with their earlier dossiers and the documents already digitised for them. On the console, a ticket taken
// at the kiosk with a card shows whose it is.
(function () {
  "use strict";
  const Staff = window.Staff;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const t = (key, values) => Staff.t(key, values);
  const START = /^[0-9]{12}\|$/;   // what a card's code begins with: its ID number and the first separator
  const START_KEYS = 13;
  // A scanner's keys come a few milliseconds apart; a person's 100 ms or more. The start must come at
  // scanner speed on average; within the scan any one gap may be longer (a busy browser), up to GAP_MS.
  const MEAN_GAP_MS = 40;
  const GAP_MS = 250;
  let recent = [];        // the last keys typed on the form: [{key, at, field, value}], value: the field's before it
  let scanning = false;  // a card's start was seen: the rest is typed into the hidden #d-scan
  let begun = "";        // the card's start, taken back from where it fell
  let idle = null;
  let back = null;       // where the focus was when the scan began
  const cards = new Map();   // ticket id -> its card ({id_number, name, birth_date}) or null: asked once

  function init(onCard) {
    const dialog = $("new-dialog");
    dialog.addEventListener("keydown", (event) => onKey(event, onCard), true);
  }

  function onKey(event, onCard) {
    if ($("d-form").hidden || event.ctrlKey || event.altKey || event.metaKey) return;
    if (scanning) {
      clearTimeout(idle);
      idle = setTimeout(stop, GAP_MS);
      if (event.key === "Enter") {
        event.preventDefault();
        const text = begun + $("d-scan").value;
        stop();
        onCard(text);
      }
      return;   // the other keys type into #d-scan, letters with tone marks too
    }
    if (event.key.length !== 1) { recent = []; return; }
    const target = event.target;
    recent.push({ key: event.key, at: performance.now(), field: target, value: "value" in target ? target.value : null });
    recent = recent.slice(-START_KEYS);
    const typed = recent.map((k) => k.key).join("");
    if (!START.test(typed)) return;
    const gaps = recent.slice(1).map((k, i) => k.at - recent[i].at);
    // Typed by hand, even a card's start is the officer's own.
    if (Math.max(...gaps) > GAP_MS || (recent[recent.length - 1].at - recent[0].at) / gaps.length > MEAN_GAP_MS) return;
    // A card: its first keys are taken back from where they fell, the rest goes to #d-scan.
    event.preventDefault();
    const first = recent[0];
    if (first.value !== null) {
      first.field.value = first.value;
      first.field.dispatchEvent(new Event("input", { bubbles: true }));
    }
    back = first.field;
    begun = typed;
    recent = [];
    scanning = true;
    $("d-scan").value = "";
    $("d-scan").focus();
    idle = setTimeout(stop, GAP_MS);
  }

  // The scan read, or cut short (the cable pulled, no Enter: nothing is read): the focus goes back.
  function stop() {
    clearTimeout(idle);
    scanning = false;
    begun = "";
    $("d-scan").value = "";
    (back && back !== $("d-scan") && back.isConnected ? back : $("d-phone")).focus();
  }

  // ---- the card, read ----------------------------------------------------------------------------

  // The server reads the card; the form gets its holder. Returns the card, or null with the refusal said.
  async function read(text, say) {
    const answer = await Staff.api("POST", "/cards", { card: text });
    if (answer.status !== 200) { say(answer); return null; }
    fill(answer.body);
    return answer.body;
  }

  function fill(card) {
    $("d-id").value = card.id_number;
    $("d-name").value = card.name;
    $("d-birth").value = card.birth_date || "";
    $("d-address").value = card.address || "";
  }

  // What the centre already holds for this citizen: their dossiers and the documents digitised for them.
  async function history(idNumber) {
    const [dossiers, documents, procedures] = await Promise.all([
      Staff.api("GET", `/citizens/${enc(idNumber)}/dossiers`),
      Staff.api("GET", `/citizens/${enc(idNumber)}/documents`),
      Staff.api("GET", "/procedures")]);
    const box = $("d-history");
    const rows = dossiers.status === 200 ? dossiers.body : [];
    const docs = documents.status === 200 ? documents.body : [];
    const kinds = new Map();
    for (const p of procedures.status === 200 ? procedures.body : []) {
      for (const d of p.documents) kinds.set(d.kind, d.name[Staff.lang()] || d.kind);
    }
    const day = (iso) => String(iso).slice(0, 10).split("-").reverse().join("/");
    const parts = [];
    parts.push(section(t("cccd.earlier", { count: rows.length }), rows.map((d) =>
      `${d.code} — ${(d.procedure_name && d.procedure_name[Staff.lang()]) || d.procedure} — ${t(`dossier.status.${d.status}`)}`)));
    parts.push(section(t("cccd.documents", { count: docs.length }), docs.map((d) =>
      `${kinds.get(d.kind) || d.kind} (${day(d.created_at)})`)));
    box.replaceChildren(...parts.flat());
    box.dataset.dossiers = String(rows.length);
    box.dataset.documents = String(docs.length);
    box.hidden = false;
  }

  function section(title, lines) {
    const h = document.createElement("h3");
    h.textContent = title;
    if (!lines.length) return [h];
    const list = document.createElement("ul");
    list.replaceChildren(...lines.map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    }));
    return [h, list];
  }

  function clear() {
    for (const id of ["d-birth", "d-address"]) $(id).value = "";
    $("d-history").replaceChildren();
    $("d-history").hidden = true;
  }

  // ---- the console: whose ticket it is -----------------------------------------------------------

  // The card the ticket was taken with at the kiosk, asked of the server once per ticket (null: none).
  async function cardOf(ticket) {
    if (!ticket) return null;
    if (!cards.has(ticket.id)) {
      const answer = await Staff.api("GET", `/tickets/${enc(ticket.id)}/card`);
      cards.set(ticket.id, answer.status === 200 ? answer.body : null);
    }
    return cards.get(ticket.id);
  }

  let current = null;   // the ticket the console shows last asked for: an older answer arriving late is dropped
  async function showCurrent(ticket) {
    current = ticket ? ticket.id : null;
    const card = await cardOf(ticket);
    if ((ticket ? ticket.id : null) !== current) return;
    const box = $("current-citizen");
    box.hidden = !card;
    box.textContent = card ? t("cccd.ticket_citizen", { name: card.name, id_number: card.id_number }) : "";
  }

  // A new dossier for the ticket being served: its citizen, when the ticket came with a card.
  async function prefill(ticket) {
    const card = await cardOf(ticket);
    if (!card) return;
    $("d-id").value = card.id_number;
    $("d-name").value = card.name;
    $("d-birth").value = card.birth_date;
  }

  window.Cccd = { init, read, history, clear, showCurrent, prefill };
})();
