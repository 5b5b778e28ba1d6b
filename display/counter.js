// The counter console: an officer picks a counter of the branch, then calls, serves, finishes,
// transfers and pauses with big buttons or one key each. The page holds no truth of its own: every
// action answers with the server's state, and the staff room pushes the branch's state live, so a
// second officer's call shows at once and a ticket just taken elsewhere is said so plainly. One officer
// works a counter at a time: choosing one takes it, and one another officer holds is offered to take over.
(function () {
  "use strict";
  const Staff = window.Staff;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const ACTIVE = ["called", "serving"];
  const MESSAGE_MS = 6000;
  const KIOSK_FRESH_MS = 30 * 60000;
  const PAUSE_REASONS = [...document.querySelectorAll("#pause-dialog [data-reason]")].map((b) => b.dataset.reason);
  const ACTION_KEYS = Object.fromEntries([...document.querySelectorAll("[data-action]")].map((b) => [b.dataset.key, b.dataset.action]));

  let session = null;
  let branch = null;
  let counterId = null;
  let state = null;
  let offsetMs = 0;          // the server's clock minus this machine's: timers count server time
  let selected = null;       // the ticket id picked in the waiting list (↑ ↓)
  let busy = false;          // one action at a time: a double press must not call twice
  let messageTimer = null;
  let kioskDismissed = null; // the kiosk problem the officer has already acknowledged
  let transferOptions = null;
  const names = { services: {}, branches: {} };   // from GET /branches: {id: {vi, en}}

  const t = (key, values) => Staff.t(key, values);
  const serviceName = (id) => (names.services[id] ? names.services[id][Staff.lang()] : id);
  const branchName = (id) => (names.branches[id] ? names.branches[id][Staff.lang()] : id);
  const serverNow = () => Date.now() + offsetMs;
  const minutesSince = (iso) => Math.max(0, Math.floor((serverNow() - Date.parse(iso)) / 60000));
  const clockTime = (iso) => new Date(iso).toLocaleTimeString("vi-VN",
    { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: Staff.settings.timezone });
  const storageKey = (b) => `motcua.counter.${b}`;
  const SHORTCUTS_KEY = "motcua.counter.shortcuts";   // "off": single-key shortcuts turned off (WCAG 2.1.4)
  const shortcutsOn = () => localStorage.getItem(SHORTCUTS_KEY) !== "off";
  // Search without accents: "bao tro" finds "Bảo trợ", "so 49" finds "số 49".
  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();

  start();

  async function start() {
    session = await Staff.session();
    Staff.header("counter.title", () => { if (state) applyState(state); });
    const network = await Staff.api("GET", "/branches");
    for (const b of network.status === 200 ? network.body : []) {
      names.branches[b.id] = b.name;
      for (const s of b.services) names.services[s.id] = s.name;
    }
    branch = params.get("branch") || session.branch || localStorage.getItem("motcua.counter.branch")
      || Object.keys(names.branches)[0];
    document.addEventListener("keydown", onKey);
    wireButtons();
    const first = await Staff.api("GET", `/branches/${encodeURIComponent(branch)}/staff-state`);
    if (first.status !== 200) { refuse(first); return; }
    if (session.role === "admin") localStorage.setItem("motcua.counter.branch", branch);
    const stored = params.get("counter") || localStorage.getItem(storageKey(branch));
    applyState(first.body);
    if (stored && first.body.counters.some((c) => c.id === stored)) chooseCounter(stored);
    window.CounterDossier.init({ session, branch, branchName, say, branches: () => Object.keys(names.branches),
      ticket: () => (myCounter() ? myCounter().ticket : null) });
    Staff.socket(branch, { staff_queue: applyState, kiosk: onKiosk, dossier: window.CounterDossier.heard }, (live) => { $("offline").hidden = live; });
    setInterval(tick, 1000);
  }

  // ---- state -------------------------------------------------------------------------------------

  function applyState(next) {
    // A push and a fetch can cross on the way: an older state never replaces a newer one.
    if (!next || next.branch !== branch || (state && next.version < state.version)) return;
    state = next;
    if (state.at) offsetMs = Date.parse(state.at) - Date.now();
    const counter = myCounter();
    if (!counter) { showPicker(); return; }
    if (heldByOther(counter)) { showTaken(counter); return; }
    $("picker").hidden = true;
    $("taken").hidden = true;
    $("console").hidden = false;
    render();
  }

  const heldByOther = (counter) => Boolean(counter.holder) && counter.holder !== session.username;
  const counterPath = (id) => `/branches/${encodeURIComponent(branch)}/counters/${encodeURIComponent(id)}`;

  async function refresh() {
    const answer = await Staff.api("GET", `/branches/${encodeURIComponent(branch)}/staff-state`);
    if (answer.status === 200) applyState(answer.body);
  }

  const myCounter = () => (state && counterId ? state.counters.find((c) => c.id === counterId) : null);

  function waitingHere() {
    const counter = myCounter();
    return state.waiting.filter((w) => counter.services.includes(w.service));
  }

  // ---- choosing a counter ----------------------------------------------------------------------

  function showPicker() {
    $("console").hidden = true;
    $("taken").hidden = true;
    $("picker").hidden = false;
    if (session.role === "admin") {
      $("branch-pick").hidden = false;
      const select = $("branch-select");
      select.replaceChildren(...Object.keys(names.branches).map((id) => new Option(branchName(id), id, false, id === branch)));
      select.onchange = () => { location.search = `?branch=${encodeURIComponent(select.value)}`; };
    }
    $("counter-choices").replaceChildren(...state.counters.map((counter, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.dataset.counter = counter.id;
      const name = document.createElement("strong");
      name.textContent = t("counter.counter_n", { counter: counter.id });
      const services = document.createElement("span");
      services.textContent = counter.services.map(serviceName).join(", ");
      const status = document.createElement("span");
      status.className = `state ${counter.status}`;
      status.textContent = t(`counter.state.${counter.status}`);
      if (index < 9) name.append(kbd(String(index + 1)));
      button.append(name, services, status);
      if (counter.holder) {
        const mine = counter.holder === session.username;
        const holder = document.createElement("span");
        holder.className = `holder${mine ? " mine" : ""}`;
        holder.textContent = mine ? t("counter.yours") : t("counter.held_by", { holder: counter.holder });
        button.append(holder);
      }
      button.addEventListener("click", () => chooseCounter(counter.id));
      return button;
    }));
  }

  // Choosing a counter takes it; one another officer holds is shown with the choice to take it over.
  function chooseCounter(id) {
    counterId = id;
    localStorage.setItem(storageKey(branch), id);
    selected = null;
    applyState(state);
    take(false);
  }

  async function take(takeOver) {
    const id = counterId;
    const answer = await Staff.api("POST", `${counterPath(id)}/take`, { take_over: takeOver });
    if (answer.status === 200 && answer.body.taken_from) {
      say(t("counter.taken_over", { counter: id, holder: answer.body.taken_from }));
    } else if (answer.status !== 200 && errorCode(answer) !== "counter_taken") {
      sayError(answer);
    }
    await refresh();   // the state says whose the counter is now: the console, or the choice to take it over
  }

  function showTaken(counter) {
    $("console").hidden = true;
    $("picker").hidden = true;
    $("taken").hidden = false;
    Staff.translate();
    $("taken-title").textContent = t("counter.taken_title", { counter: counter.id });
    $("taken-by").textContent = t("counter.taken_by", { holder: counter.holder,
      time: counter.held_since ? clockTime(counter.held_since) : "—" });
    document.title = `${t("counter.counter_n", { counter: counter.id })} — ${branchName(branch)} — motcua`;
  }

  function leaveCounter() {
    counterId = null;
    localStorage.removeItem(storageKey(branch));
    showPicker();
  }

  // ---- drawing -----------------------------------------------------------------------------------

  function render() {
    Staff.translate();
    const counter = myCounter();
    $("counter-name").textContent = t("counter.counter_n", { counter: counter.id });
    $("counter-services").textContent = counter.services.map(serviceName).join(" · ");
    document.title = `${t("counter.counter_n", { counter: counter.id })} — ${branchName(branch)} — motcua`;
    renderCurrent(counter);
    renderWaiting(counter);
    renderBooked(counter);
    renderStrip();
    renderButtons(counter);
    renderKiosk();
    tick();
  }

  function renderCurrent(counter) {
    const ticket = counter.ticket;
    $("current-body").hidden = !ticket;
    $("current-none").hidden = Boolean(ticket) || !counter.open || counter.paused;
    $("current").className = `current ${ticket ? ticket.status : "empty"}`;
    if (ticket) {
      $("current-number").textContent = ticket.number;
      $("current-status").textContent = t(`counter.status.${ticket.status}`);
      $("current-service").textContent = $("current-service").title = serviceName(ticket.service);
      $("current-priority").hidden = !ticket.priority;
    }
    window.Cccd.showCurrent(ticket);   // whose ticket it is, when taken at the kiosk with an ID card
    // Paused or closed, the panel saying so takes the ticket's place.
    $("current").hidden = counter.paused || !counter.open;
    $("paused").hidden = !counter.paused;
    $("closed").hidden = counter.open;
    $("pause-label").textContent = t(counter.paused ? "counter.action.resume" : "counter.action.pause");
    // Said once per change to a screen reader (the timer ticking beside it is not).
    const heard = counter.paused ? t("counter.paused_title") : !counter.open ? t("counter.closed")
      : ticket ? t("counter.live.ticket", { counter: counter.id, number: ticket.number, status: t(`counter.status.${ticket.status}`) })
        : t("counter.live.none", { counter: counter.id });
    if ($("live-status").textContent !== heard) $("live-status").textContent = heard;
  }

  function renderWaiting(counter) {
    const rows = waitingHere();
    if (selected && !rows.some((w) => w.id === selected)) selected = null;
    const canCall = counter.open && !counter.paused && !counter.ticket;
    $("waiting-count").textContent = t("counter.waiting_count", { count: rows.filter((w) => w.status === "waiting").length });
    $("nobody").hidden = rows.length > 0;
    $("waiting-rows").replaceChildren(...rows.map((w) => {
      const row = document.createElement("tr");
      row.dataset.ticket = w.id;
      row.dataset.number = w.number;
      row.className = [w.status === "no_show" ? "no-show" : "", w.id === selected ? "selected" : ""].join(" ").trim();
      row.setAttribute("aria-selected", String(w.id === selected));
      row.addEventListener("click", () => { selected = w.id; renderWaiting(myCounter()); });
      const number = cell("tno", w.number);
      if (w.priority) number.append(badge("priority", t("counter.priority")));
      if (w.channel && w.channel !== "walk_in") number.append(badge("channel", t(`counter.channel.${w.channel}`)));
      if (w.status === "no_show") number.append(badge("no-show", t("counter.no_show")));
      else if (w.channel === "remote") number.append(w.checked_in_at
        ? badge("checked-in", t("counter.checked_in", { time: clockTime(w.checked_in_at) }))
        : badge("not-checked-in", t("counter.not_checked_in", { time: clockTime(w.window_end) })));
      else if (w.due_at && Date.parse(w.due_at) > serverNow()) number.append(badge("on-way", t("counter.on_the_way")));
      const waited = cell("waited", "");
      waited.dataset.since = w.issued_at;
      const actions = cell("row-actions", "");
      const call = smallButton("counter.action.call", () => callTicket(w), !canCall);
      call.dataset.do = "call";
      actions.append(call);
      if (w.status === "no_show") {
        const back = smallButton("counter.action.requeue", () => requeue(w), false);
        back.dataset.do = "requeue";
        actions.append(back);
      }
      row.append(number, cell("svc", serviceName(w.service)), waited, actions);
      return row;
    }));
    paintWaited();
  }

  // Today's appointments for this counter's services: who is booked, who came (with the ticket it got).
  function renderBooked(counter) {
    const mine = (state.booked || []).filter((a) => counter.services.includes(a.service));
    const came = mine.filter((a) => a.status === "checked_in" || a.status === "late").length;
    $("booked-count").textContent = t("counter.booked_count", { count: mine.length, came: came });
    $("booked-panel").hidden = mine.length === 0;
    $("booked").replaceChildren(...mine.map((a) => {
      const item = document.createElement("li");
      item.className = `is-${a.status}`;   // not the bare status: "booked" is the panel's own class
      item.dataset.start = a.start;
      item.append(cell("at", clockTime(a.start), "span"), cell("svc", serviceName(a.service), "span"),
                  cell("came", t(`counter.booked_${a.status}`, { number: a.ticket || "" }), "span"));
      return item;
    }));
  }

  function renderStrip() {
    $("counter-strip").replaceChildren(...state.counters.map((c) => {
      const item = document.createElement("li");
      item.dataset.counter = c.id;
      item.className = `${c.status}${c.id === counterId ? " mine" : ""}`;
      const name = document.createElement("strong");
      name.textContent = c.id;
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = c.ticket ? c.ticket.number : t(`counter.state.${c.status}`);
      const more = document.createElement("span");
      more.className = "more";
      if (c.status === "idle" && c.idle_since) more.dataset.idleSince = c.idle_since;
      if (c.status === "paused" && c.pause_reason) more.textContent = t(`counter.reason.${c.pause_reason}`);
      item.append(name, what, more);
      return item;
    }));
  }

  function renderButtons(counter) {
    const ticket = counter.ticket;
    const status = ticket ? ticket.status : null;
    const free = counter.open && !counter.paused && !ticket;
    const enabled = {
      next: free,
      recall: status === "called",
      start: status === "called",
      done: ACTIVE.includes(status),
      no_show: status === "called",
      transfer: ACTIVE.includes(status),
      pause: counter.open && !ticket,
    };
    for (const button of document.querySelectorAll("[data-action]")) button.disabled = busy || !enabled[button.dataset.action];
  }

  function renderKiosk() {
    const problems = (state && state.kiosk_problems) || [];
    const latest = problems[problems.length - 1];
    // A problem heard long ago is no news: the banner is for what needs doing now.
    if (latest && serverNow() - Date.parse(latest.at) < KIOSK_FRESH_MS) showKiosk(latest);
  }

  function showKiosk(problem) {
    const key = `${problem.number}|${problem.at}`;
    if (key === kioskDismissed) return;
    const known = `counter.problem.${problem.problem}`;
    const what = t(known) !== known ? t(known) : t("counter.problem.other");
    $("kiosk-text").textContent = problem.problem === "revoked"
      ? t("counter.kiosk_revoked", { kiosk: problem.kiosk, time: clockTime(problem.at) })
      : t("counter.kiosk_problem", { problem: what, number: problem.number, time: clockTime(problem.at) });
    $("kiosk-banner").dataset.key = key;
    $("kiosk-banner").hidden = false;
  }

  function tick() {
    const counter = myCounter();
    if (!counter) return;
    if (counter.ticket) {
      const since = counter.ticket.started_at || counter.ticket.called_at;
      const seconds = Math.max(0, Math.floor((serverNow() - Date.parse(since)) / 1000));
      const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
      $("current-timer").textContent = `${mm}:${String(seconds % 60).padStart(2, "0")}`;
    }
    if (counter.paused) {
      const since = counter.since;
      $("paused-for").textContent = t("counter.paused_for", {
        reason: t(`counter.reason.${counter.pause_reason}`),
        time: since ? clockTime(since) : "—", minutes: since ? minutesSince(since) : 0 });
    }
    paintWaited();
    for (const more of document.querySelectorAll("#counter-strip [data-idle-since]")) {
      more.textContent = t("counter.idle_for", { minutes: minutesSince(more.dataset.idleSince) });
    }
  }

  function paintWaited() {
    for (const waited of document.querySelectorAll("#waiting-rows [data-since]")) {
      const minutes = minutesSince(waited.dataset.since);
      waited.textContent = t("staff.minutes", { minutes });
      waited.className = `waited ${Staff.waitClass(minutes)}`;
    }
  }

  // ---- actions -----------------------------------------------------------------------------------

  function wireButtons() {
    for (const button of document.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => act(button.dataset.action));
    }
    // Leaving for another counter lets this one go, for whoever comes to it next.
    $("change-counter").addEventListener("click", () => {
      const counter = myCounter();
      leaveCounter();
      if (counter && counter.holder === session.username) Staff.api("POST", `${counterPath(counter.id)}/release`).then(refresh);
    });
    $("take-over").addEventListener("click", () => take(true));
    $("taken-other").addEventListener("click", leaveCounter);
    $("kiosk-dismiss").addEventListener("click", () => { kioskDismissed = $("kiosk-banner").dataset.key; $("kiosk-banner").hidden = true; });
    for (const button of document.querySelectorAll("#pause-dialog [data-reason]")) {
      button.addEventListener("click", () => pause(button.dataset.reason));
    }
    for (const close of document.querySelectorAll("dialog [data-close]")) {
      close.addEventListener("click", () => close.closest("dialog").close());
    }
    $("transfer-service").addEventListener("change", renderTransferBranches);
    $("transfer-filter").addEventListener("input", filterTransfer);
    $("shortcuts").checked = shortcutsOn();
    document.body.classList.toggle("no-shortcuts", !shortcutsOn());
    $("shortcuts").addEventListener("change", () => {
      localStorage.setItem(SHORTCUTS_KEY, $("shortcuts").checked ? "on" : "off");
      document.body.classList.toggle("no-shortcuts", !shortcutsOn());
    });
  }

  function act(action) {
    const counter = myCounter();
    if (!counter || busy) return;
    const ticket = counter.ticket;
    const path = `/branches/${encodeURIComponent(branch)}/counters/${encodeURIComponent(counter.id)}`;
    if (action === "next") return run("POST", `${path}/next`, null, (body) => {
      const called = body.ticket ? t("counter.called_msg", { number: body.ticket.number }) : t("counter.nobody_to_call");
      // Taken on a service (the advice's move, made by the server): say so, or the officer wonders at the ticket.
      const tookOn = body.took_on ? t("counter.took_on", { services: body.took_on.map(serviceName).join(", ") }) : "";
      say(tookOn ? `${tookOn}. ${body.ticket ? called : ""}`.trim() : called);
    });
    if (action === "pause") {
      if (counter.paused) return run("POST", `${path}/resume`);
      if (!counter.ticket && counter.open) $("pause-dialog").showModal();
      return;
    }
    if (!ticket) return;
    if (action === "transfer") { openTransfer(ticket); return; }
    const verb = { recall: "recall", start: "start", done: "done", no_show: "no-show" }[action];
    const onDone = action === "recall" ? () => say(t("counter.recalled", { number: ticket.number })) : null;
    return run("POST", `/tickets/${encodeURIComponent(ticket.id)}/${verb}`, null, onDone, ticket.number);
  }

  function callTicket(w) {
    const counter = myCounter();
    return run("POST", `/branches/${encodeURIComponent(branch)}/counters/${encodeURIComponent(counter.id)}/call`,
      { ticket: w.id }, (body) => say(t("counter.called_msg", { number: body.ticket.number })), w.number);
  }

  function requeue(w) {
    return run("POST", `/tickets/${encodeURIComponent(w.id)}/requeue`, null,
      () => say(t("counter.requeued", { number: w.number })), w.number);
  }

  function pause(reason) {
    $("pause-dialog").close();
    const counter = myCounter();
    return run("POST", `/branches/${encodeURIComponent(branch)}/counters/${encodeURIComponent(counter.id)}/pause`, { reason });
  }

  // One call to the server, then the branch's state as it now is: the answer is committed already.
  async function run(method, path, body, onDone, number) {
    busy = true;
    renderButtons(myCounter());
    let answer;
    try {
      answer = await Staff.api(method, path, body);
    } finally {
      busy = false;
    }
    if (answer.status >= 200 && answer.status < 300) {
      if (onDone) onDone(answer.body);
    } else {
      sayError(answer, number);
    }
    await refresh();
    if (myCounter()) renderButtons(myCounter());
    return answer;
  }

  const errorCode = (answer) => (answer.body && answer.body.error ? answer.body.error.code : String(answer.status));

  function sayError(answer, number) {
    if (answer.status === 401) return;   // staff.js takes the page to the sign-in
    const code = errorCode(answer);
    // Another officer took the counter over meanwhile: the state fetched next offers it back.
    if (code === "counter_taken") {
      say(t("counter.error.counter_taken", { holder: answer.body.error.details.holder }), "bad");
      return;
    }
    // Someone else moved the ticket first (called it, finished it, transferred it).
    if (number && (code === "bad_transition" || code === "other_day" || answer.status === 404)) {
      say(t("counter.error.taken", { number }), "bad");
      return;
    }
    say(errorText(answer), "bad");
  }

  // The console's own words for a refusal, else the staff pages' shared ones.
  function errorText(answer) {
    const code = answer.body && answer.body.error ? answer.body.error.code : String(answer.status);
    const key = `counter.error.${code}`;
    return t(key) !== key ? t(key) : Staff.errorText(answer);
  }

  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = `message ${kind || "ok"}`;
    box.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(() => { box.hidden = true; }, MESSAGE_MS);
  }

  function refuse(answer) {
    $("refusal").textContent = errorText(answer);
    $("refusal").hidden = false;
    $("console").hidden = true;
    $("picker").hidden = true;
  }

  // ---- transfer --------------------------------------------------------------------------------

  async function openTransfer(ticket) {
    const answer = await Staff.api("GET", `/branches/${encodeURIComponent(branch)}/transfer-options`);
    if (answer.status !== 200) { sayError(answer); return; }
    transferOptions = { ticket, services: answer.body.services };
    $("transfer-title").textContent = t("counter.transfer_title", { number: ticket.number, service: serviceName(ticket.service) });
    const here = transferOptions.services.filter((s) => s.here && s.id !== ticket.service);
    $("transfer-services").replaceChildren(...here.map((s) => {
      const minutes = s.here.estimated_wait_min;
      const key = minutes === null ? "counter.here_no_estimate" : minutes === 0 ? "counter.here_now" : "counter.here_wait";
      const detail = t(key, { waiting: s.here.waiting, minutes });
      const button = choiceButton(serviceName(s.id), detail, () => transfer(ticket, s.id, null));
      button.dataset.service = s.id;
      return button;
    }));
    $("transfer-service").replaceChildren(...transferOptions.services.map((s) =>
      new Option(serviceName(s.id), s.id, false, s.id === ticket.service)));
    $("transfer-filter").value = "";
    renderTransferBranches();
    $("transfer-dialog").showModal();
  }

  // The filter narrows both lists: the services here and the branches of the service picked.
  function filterTransfer() {
    const query = fold($("transfer-filter").value.trim());
    for (const button of document.querySelectorAll("#transfer-services .choice, #transfer-branches .choice")) {
      button.hidden = query !== "" && !fold(button.textContent).includes(query);
    }
  }

  function renderTransferBranches() {
    const service = transferOptions.services.find((s) => s.id === $("transfer-service").value);
    const list = $("transfer-branches");
    if (!service.branches.length) {
      const none = document.createElement("div");
      none.className = "nobody";
      none.textContent = t("counter.not_offered_elsewhere");
      list.replaceChildren(none);
      return;
    }
    list.replaceChildren(...service.branches.map((b) => {
      const values = { km: b.distance_km.toLocaleString(Staff.locale()), travel: b.travel_min,
        wait: b.estimated_wait_min };
      const key = b.estimated_wait_min === null ? "counter.trip_no_estimate" : b.estimated_wait_min === 0 ? "counter.trip_now"
        : "counter.trip";
      let detail = t(key, values);
      if (!b.within_reach) detail += ` · ${t("counter.far")}`;
      const button = choiceButton(b.name[Staff.lang()], detail, () => transfer(transferOptions.ticket, service.id, b.branch));
      button.dataset.branch = b.branch;
      if (!b.within_reach) button.classList.add("far");
      return button;
    }));
    filterTransfer();
  }

  async function transfer(ticket, service, toBranch) {
    $("transfer-dialog").close();
    const body = toBranch ? { service, branch: toBranch } : { service };
    await run("POST", `/tickets/${encodeURIComponent(ticket.id)}/transfer`, body, (moved) => {
      say(toBranch ? t("counter.transferred_branch", { number: ticket.number, branch: branchName(toBranch), new: moved.number })
        : t("counter.transferred", { number: ticket.number, service: serviceName(service) }));
    }, ticket.number);
  }

  // ---- keys --------------------------------------------------------------------------------------

  function onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    const key = event.key.toLowerCase();
    const dialog = document.querySelector("dialog[open]");
    // Turned off, a printable key does nothing here: arrows, Enter and Esc still work.
    if (!shortcutsOn() && event.key.length === 1) return;
    if (dialog) {
      if (dialog.id === "pause-dialog" && ["1", "2", "3"].includes(key)) {
        event.preventDefault();
        pause(PAUSE_REASONS[Number(key) - 1]);
      }
      return;   // Esc closes a dialog by itself
    }
    if ($("console").hidden) {
      if (!$("picker").hidden && /^[1-9]$/.test(key) && state && state.counters[Number(key) - 1]) {
        chooseCounter(state.counters[Number(key) - 1].id);
      }
      return;
    }
    if (ACTION_KEYS[key]) { event.preventDefault(); act(ACTION_KEYS[key]); return; }
    if (key === "arrowdown" || key === "arrowup") { event.preventDefault(); moveSelection(key === "arrowdown" ? 1 : -1); return; }
    const chosen = waitingHere().find((w) => w.id === selected);
    if (key === "enter" && chosen && !event.target.closest("button")) { event.preventDefault(); callTicket(chosen); return; }
    if (key === "b" && chosen && chosen.status === "no_show") { event.preventDefault(); requeue(chosen); }
  }

  function moveSelection(step) {
    const rows = waitingHere();
    if (!rows.length) return;
    const at = rows.findIndex((w) => w.id === selected);
    selected = rows[Math.min(rows.length - 1, Math.max(0, at === -1 ? 0 : at + step))].id;
    renderWaiting(myCounter());
    const row = document.querySelector(`#waiting-rows tr[data-ticket="${CSS.escape(selected)}"]`);
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  // ---- small builders ----------------------------------------------------------------------------

  function onKiosk(problem) {
    if (problem && problem.branch === branch) showKiosk(problem);
  }

  function cell(className, text, tag = "td") {
    const td = document.createElement(tag);
    td.className = className;
    td.textContent = text;
    return td;
  }

  function badge(kind, text) {
    const span = document.createElement("span");
    span.className = `badge ${kind}`;
    span.textContent = text;
    return span;
  }

  function kbd(text) {
    const key = document.createElement("kbd");
    key.textContent = text;
    return key;
  }

  function smallButton(key, onClick, disabled) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = t(key);
    button.disabled = disabled;
    button.addEventListener("click", (event) => { event.stopPropagation(); onClick(); });
    return button;
  }

  function choiceButton(title, detail, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice";
    const strong = document.createElement("strong");
    strong.textContent = title;
    const span = document.createElement("span");
    span.textContent = detail;
    button.append(strong, span);
    button.addEventListener("click", onClick);
    return button;
  }
})();
