// A ticket taken from a phone before the trip (/r/): the service, where the citizen is (the phone's
// location, or a branch picked from the list), the branches near by travel plus wait, the phone
// number, then the ticket with the time to arrive by and how to check in. An appointment booked
// (/h/, settings.mode "appointment") takes the same first steps, then a day and a slot, and ends
// with its code, which this phone keeps to move or cancel it. Every word comes from the
// catalogues, Vietnamese first, English smaller; the server's refusals are said in words.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const settings = JSON.parse($("motcua-settings").textContent);
  const texts = settings.texts;
  const booking = settings.mode === "appointment";
  const STEPS = booking ? ["service", "where", "when", "phone", "booked"] : ["service", "where", "phone", "ticket"];
  // What the server's refusal codes mean to a citizen; anything else is said as "could not take".
  const PROBLEMS = { bad_phone: "rpage.error.bad_phone", remote_ticket_held: "rpage.error.held",
                     rate_limited: "rpage.error.rate_limited", not_served: "rpage.error.not_served",
                     branch_closed: "rpage.error.branch_closed", unknown_service: "rpage.error.not_served",
                     network: "rpage.error.network", empty_phone: "rpage.error.empty_phone",
                     slot_full: "bpage.error.slot_full", appointment_held: "bpage.error.held",
                     bad_id_number: "bpage.error.bad_id", unknown_appointment: "bpage.error.unknown" };

  let service = null;   // the chosen service
  let branch = null;    // the chosen branch: {id, name}

  // ---- text ----------------------------------------------------------------------------------

  function text(lang, key, values) {
    const template = texts[lang][key] !== undefined ? texts[lang][key] : (texts.vi[key] || key);
    return template.replace(/\{(\w+)\}/g, (_, name) => {
      const value = (values || {})[name];
      return String(value !== null && typeof value === "object" ? value[lang] : value ?? "");
    });
  }

  function pair(vi, en) {
    const a = document.createElement("span");
    a.className = "vi";
    a.textContent = vi;
    const b = document.createElement("span");
    b.className = "en";
    b.lang = "en";
    b.textContent = en;
    return [a, b];
  }

  // The catalogue's text in both languages; a value may be a {vi, en} pair (a branch's name).
  function say(el, key, values) {
    el.replaceChildren(...pair(text("vi", key, values), text("en", key, values)));
  }

  function names(el, name) {
    el.replaceChildren(...pair(name.vi, name.en));
  }

  // Searching ignores case and Vietnamese marks: "ho tich" finds "Hộ tịch".
  function plain(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }

  // "2026-11-24T10:40:00+07:00" → "10:40": the server writes times in the branch's own zone.
  const clockTime = (iso) => iso.slice(11, 16);

  // ---- steps ---------------------------------------------------------------------------------

  function go(step) {
    document.body.dataset.step = step;
    for (const name of ["service", "where", "when", "phone", "ticket", "booked"]) $(name + "-step").hidden = name !== step;
    $("mine").hidden = step !== "service" || !showMine();
    const index = STEPS.indexOf(step) + 1;
    say($("steps"), "rpage.step", { n: index, of: STEPS.length });
    window.scrollTo(0, 0);
  }

  function choice(title, lines, onPick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice";
    const head = document.createElement("span");
    head.className = "choice-title";
    names(head, title);
    button.append(head);
    for (const line of lines) button.append(line);
    button.addEventListener("click", onPick);
    return button;
  }

  function detail(key, values, className) {
    const el = document.createElement("span");
    el.className = "choice-detail" + (className ? " " + className : "");
    say(el, key, values);
    return el;
  }

  // ---- 1. the service ------------------------------------------------------------------------

  function showServices() {
    const typed = plain($("search").value.trim());
    const found = settings.services.filter((s) => !typed ||
      [s.name.vi, s.name.en, s.description.vi, s.description.en, s.group ? s.group.vi : ""].some((t) => plain(t).includes(typed)));
    const list = $("services");
    list.replaceChildren();
    let group = undefined;
    for (const s of found) {
      const heading = s.group ? s.group.vi : null;
      if (heading !== group && s.group) {
        const h = document.createElement("h2");
        h.className = "group";
        names(h, s.group);
        list.append(h);
      }
      group = heading;
      const lines = s.description.vi ? [detail("rpage.service.description", { text: s.description })] : [];
      const button = choice(s.name, lines, () => pickService(s));
      button.dataset.service = s.id;
      list.append(button);
    }
    $("no-service").hidden = found.length > 0;
  }

  function pickService(s) {
    service = s;
    names($("chosen-service"), s.name);
    $("nearby").replaceChildren();
    $("where-status").hidden = true;
    showBranchList();
    go("where");
  }

  // ---- 2. where: near the phone, or from the list ----------------------------------------------

  function locate() {
    if (!navigator.geolocation) { whereProblem("rpage.where.unavailable"); return; }
    status("rpage.where.locating");
    $("locate").disabled = true;
    navigator.geolocation.getCurrentPosition((position) => {
      $("locate").disabled = false;
      nearby(position.coords.latitude, position.coords.longitude);
    }, (error) => {
      $("locate").disabled = false;
      whereProblem(error.code === error.PERMISSION_DENIED ? "rpage.where.denied" : "rpage.where.unavailable");
    }, { timeout: 15000, maximumAge: 300000 });
  }

  function status(key) {
    $("where-status").hidden = false;
    $("where-status").classList.remove("problem");
    say($("where-status"), key);
  }

  function whereProblem(key) {
    status(key);
    $("where-status").classList.add("problem");
    $("where-status").scrollIntoView({ block: "start" });
  }

  async function nearby(lat, lon) {
    const query = new URLSearchParams({ lat: String(lat), lon: String(lon), service: service.id });
    let found;
    try {
      const answer = await fetch("/api/v1/branches/nearby?" + query, { cache: "no-store" });
      if (!answer.ok) throw new Error(String(answer.status));
      found = await answer.json();
    } catch (error) {
      whereProblem("rpage.error.network");
      return;
    }
    if (!found.length) { whereProblem("rpage.where.none_near"); return; }
    $("where-status").hidden = true;
    $("nearby").replaceChildren(...found.map((b, i) => {
      const km = b.distance_km.toFixed(1);
      const lines = [detail("rpage.where.travel_wait", { travel: b.travel_min, wait: b.estimated_wait_min,
                                                         km: { vi: km.replace(".", ","), en: km } })];
      if (i === 0) lines.unshift(detail("rpage.where.soonest", {}, "soonest"));
      // The trip nearby gave goes with the ticket: the server tells the phone when to set off from it.
      const button = choice(b.name, lines, () => pickBranch({ id: b.branch, name: b.name, travel_min: b.travel_min }));
      button.dataset.branch = b.branch;
      return button;
    }));
  }

  // Every open branch that offers the service, with the wait there now. A city lists hundreds: each
  // card asks for its wait once it comes into view, not all at once, and from SEARCH_FROM of them the
  // list can be searched by name or address.
  const SEARCH_FROM = 6;
  let listed = [];         // the list's cards, each with the words it is found by
  let watching = null;     // the list's IntersectionObserver

  function showBranchList() {
    const offering = settings.branches.filter((b) => b.services.includes(service.id));
    $("list-title").hidden = offering.length === 0;
    $("branch-search").value = "";
    $("branch-search-field").hidden = offering.length < SEARCH_FROM;
    $("no-branch").hidden = true;
    const whenSeen = waitWhenSeen();
    listed = offering.map((b) => {
      const wait = detail("rpage.where.wait_unknown", {});
      const lines = b.address.vi ? [detail("rpage.where.address", { text: b.address }), wait] : [wait];
      const button = choice(b.name, lines, () => pickBranch(b));
      button.dataset.branch = b.id;
      whenSeen(button, () => askWait(b, wait));
      return { button: button, words: plain([b.name.vi, b.name.en, b.address.vi, b.address.en].join(" ")) };
    });
    $("branch-list").replaceChildren(...listed.map((l) => l.button));
  }

  function askWait(b, wait) {
    fetch(`/api/v1/branches/${encodeURIComponent(b.id)}/services/${encodeURIComponent(service.id)}/availability`,
          { cache: "no-store" })
      .then((answer) => answer.ok ? answer.json() : null)
      .then((a) => {
        if (a && a.estimated_wait_min !== null) say(wait, "rpage.where.wait", { wait: a.estimated_wait_min });
        else if (a) say(wait, "rpage.where.not_served_now");
      })
      .catch(() => {});
  }

  // ask() runs once, when el first comes into view (at once where the browser cannot tell).
  function waitWhenSeen() {
    if (watching) watching.disconnect();
    if (!("IntersectionObserver" in window)) return (el, ask) => ask();
    const asks = new Map();
    watching = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting || !asks.has(entry.target)) continue;
        watching.unobserve(entry.target);
        asks.get(entry.target)();
        asks.delete(entry.target);
      }
    }, { rootMargin: "200px 0px" });
    return (el, ask) => { asks.set(el, ask); watching.observe(el); };
  }

  // Typing without marks finds "Phường Bến Nghé" by "ben nghe", "Chi nhánh số 12" by "12".
  function filterBranches() {
    const typed = plain($("branch-search").value.trim());
    let shown = 0;
    for (const l of listed) {
      l.button.hidden = typed !== "" && !l.words.includes(typed);
      if (!l.button.hidden) shown += 1;
    }
    $("no-branch").hidden = shown > 0;
  }

  // ---- 3. the phone number -------------------------------------------------------------------

  function pickBranch(b) {
    branch = b;
    names($("chosen-branch"), b.name);
    hideProblem();
    if (booking) { showDays(); return; }
    go("phone");
    $("phone").focus();
  }

  function hideProblem() {
    $("problem").hidden = true;
    $("held").hidden = true;
    $("phone").removeAttribute("aria-invalid");
    $("id-number").removeAttribute("aria-invalid");
  }

  function problem(code, details, retryAfter) {
    const key = PROBLEMS[code] || "rpage.error.other";
    const minutes = Math.max(1, Math.ceil(Number(retryAfter || 60) / 60));
    const held = code === "remote_ticket_held" && details ? details : null;
    const where = held ? (settings.branches.find((b) => b.id === held.branch) || { name: { vi: held.branch, en: held.branch } }).name : null;
    say($("problem"), key, { minutes: minutes, number: held ? held.number : "", branch: where });
    $("problem").hidden = false;
    if (code === "bad_phone" || code === "empty_phone") $("phone").setAttribute("aria-invalid", "true");
    if (code === "bad_id_number") $("id-number").setAttribute("aria-invalid", "true");
    $("held").hidden = !held;
    if (held) {
      $("held").href = "/t/" + encodeURIComponent(held.ticket);
      say($("held"), "rpage.error.held_open", { number: held.number });
    }
  }

  // The language the citizen's messages (reminders, "your turn is near") are written in: their choice,
  // Vietnamese unless they pick English.
  function messageLang() {
    return document.querySelector("input[name=lang]:checked").value;
  }

  async function take(event) {
    event.preventDefault();
    hideProblem();
    const phone = $("phone").value.trim();
    if (!phone) { problem("empty_phone"); return; }
    $("take").disabled = true;
    try {
      const answer = booking ? await book(phone) : await post(
        `/api/v1/branches/${encodeURIComponent(branch.id)}/remote-tickets`,
        { service: service.id, phone: phone, lang: messageLang(),
          ...(branch.travel_min == null ? {} : { travel_min: branch.travel_min }) });
      const body = await answer.json().catch(() => ({}));
      if (answer.status === 201) { if (booking) keep(body, phone); else showTicket(body); return; }
      if (booking && body.error && body.error.code === "slot_full") { slotTaken(); return; }
      const error = body.error || {};
      problem(answer.status === 429 ? "rate_limited" : error.code, error.details, answer.headers.get("Retry-After"));
    } catch (error) {
      problem("network");
    } finally {
      $("take").disabled = false;
    }
  }

  // ---- 4. the ticket -------------------------------------------------------------------------

  function showTicket(ticket) {
    $("number").textContent = ticket.number;
    names($("ticket-service"), service.name);
    names($("ticket-branch"), branch.name);
    say($("before"), "rpage.ticket.before", { time: clockTime(ticket.window_end) });
    say($("how-kiosk"), "rpage.ticket.how_kiosk", { number: ticket.number });
    $("follow").href = new URL(ticket.status_url, location.href).pathname;
    document.title = ticket.number + " · " + text("vi", "rpage.title");
    go("ticket");
  }

  // ---- an appointment: the day and the slot, then the code -------------------------------------

  const STORE = "motcua.appointments";   // the appointments booked on this phone: {code, phone, ...}
  let day = null;        // the chosen day, "YYYY-MM-DD"
  let slot = null;       // the chosen slot: {start, end, free}
  let moving = null;     // the appointment being moved to another slot, or null
  let shown = null;      // the appointment on screen

  const post = (url, body) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                           cache: "no-store", body: JSON.stringify(body) });

  // "2026-12-08" → "Thứ ba 08/12": the weekday from the catalogue, the day and month as written here.
  function dayName(lang, iso) {
    const [y, m, d] = iso.split("-").map(Number);
    const weekday = texts[lang].weekday[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
    return text(lang, "bpage.when.day", { weekday: weekday, date: `${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}` });
  }

  function sayDay(el, iso) {
    el.replaceChildren(...pair(dayName("vi", iso), dayName("en", iso)));
  }

  function showDays() {
    names($("when-chosen"), branch.name);
    $("days").replaceChildren(...settings.days.map((iso) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "day";
      button.dataset.day = iso;
      sayDay(button, iso);
      button.addEventListener("click", () => loadSlots(iso));
      return button;
    }));
    go("when");
    loadSlots(day && settings.days.includes(day) ? day : settings.days[0]);
  }

  function whenStatus(key, problemToo) {
    $("when-status").hidden = !key;
    $("when-status").classList.toggle("problem", Boolean(problemToo));
    if (key) say($("when-status"), key);
  }

  async function loadSlots(iso) {
    day = iso;
    for (const b of $("days").children) b.setAttribute("aria-pressed", String(b.dataset.day === iso));
    $("slots").replaceChildren();
    whenStatus("bpage.when.loading");
    const query = new URLSearchParams({ service: service.id, date: iso });
    let found;
    try {
      const answer = await fetch(`/api/v1/branches/${encodeURIComponent(branch.id)}/slots?` + query, { cache: "no-store" });
      if (!answer.ok) throw new Error(String(answer.status));
      found = await answer.json();
    } catch (error) {
      whenStatus("rpage.error.network", true);
      return;
    }
    if (iso !== day) return;   // another day was picked meanwhile
    const open = found.filter((s) => s.free > 0);
    whenStatus(open.length ? null : "bpage.when.none", true);
    $("slots").replaceChildren(...open.map((s) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "slot";
      button.dataset.start = s.start;
      const time = document.createElement("span");
      time.className = "slot-time";
      time.textContent = clockTime(s.start);
      button.append(time, detail("bpage.when.free", { free: s.free }));
      button.addEventListener("click", () => pickSlot(s));
      return button;
    }));
  }

  function slotTaken() {
    go("when");
    loadSlots(day).then(() => whenStatus("bpage.error.slot_full", true));
  }

  function pickSlot(s) {
    slot = s;
    if (moving) { move(); return; }
    $("chosen-slot").hidden = false;
    $("chosen-slot").replaceChildren(...pair(slotText("vi", s), slotText("en", s)));
    hideProblem();
    go("phone");
    $("phone").focus();
  }

  function slotText(lang, s) {
    return text(lang, "bpage.when.slot", { day: dayName(lang, s.start.slice(0, 10)), start: clockTime(s.start),
                                             end: clockTime(s.end) });
  }

  function book(phone) {
    const body = { branch: branch.id, service: service.id, start: slot.start, phone: phone, lang: messageLang() };
    const idNumber = $("id-number").value.replace(/\s/g, "");
    if (idNumber) body.id_number = idNumber;
    return post("/api/v1/appointments", body);
  }

  // ---- this phone's appointments ----------------------------------------------------------------

  function kept() {
    try {
      const all = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(all) ? all.filter((a) => a && Date.parse(a.end) > Date.now()) : [];
    } catch (error) {
      return [];
    }
  }

  function store(list) {
    try { localStorage.setItem(STORE, JSON.stringify(list)); } catch (error) { /* private mode: shown, not kept */ }
  }

  function keep(appointment, phone) {
    store([...kept().filter((a) => a.code !== appointment.code), { ...appointment, phone: phone }]);
    showBooked({ ...appointment, phone: phone });
  }

  function showMine() {
    const mine = booking ? kept().filter((a) => a.status === "booked") : [];
    $("mine-list").replaceChildren(...mine.map((a) => {
      const where = branchOf(a.branch);
      const button = choice(serviceOf(a.service).name, [detail("bpage.mine.line", {
        when: { vi: slotText("vi", a), en: slotText("en", a) }, branch: where.name, code: a.code })],
        () => showBooked(a));
      button.dataset.code = a.code;
      return button;
    }));
    return mine.length > 0;
  }

  const branchOf = (id) => settings.branches.find((b) => b.id === id) || { id: id, name: { vi: id, en: id } };
  const serviceOf = (id) => settings.services.find((s) => s.id === id) || { id: id, name: { vi: id, en: id } };

  function showBooked(a) {
    shown = a;
    moving = null;
    service = serviceOf(a.service);
    branch = branchOf(a.branch);
    $("code").textContent = a.code;
    names($("booked-service"), service.name);
    names($("booked-branch"), branch.name);
    $("booked-when").replaceChildren(...pair(slotText("vi", a), slotText("en", a)));
    say($("booked-window"), "bpage.booked.window", { from: clockTime(a.check_in_from), until: clockTime(a.called_as_booked_until) });
    say($("booked-kiosk"), "bpage.booked.how_kiosk", { code: a.code });
    const cancelled = a.status === "cancelled";
    $("booked-status").hidden = !cancelled;
    if (cancelled) say($("booked-status"), "bpage.booked.cancelled");
    $("booked-actions").hidden = cancelled;
    $("confirm-cancel").hidden = true;
    document.title = a.code + " · " + text("vi", "bpage.title");
    go("booked");
  }

  function bookedProblem(answer, body) {
    const error = (body && body.error) || {};
    const code = answer && answer.status === 429 ? "rate_limited" : (answer ? error.code : "network");
    const minutes = Math.max(1, Math.ceil(Number((answer && answer.headers.get("Retry-After")) || 60) / 60));
    $("booked-status").hidden = false;
    $("booked-status").classList.add("problem");
    say($("booked-status"), PROBLEMS[code] || "rpage.error.other", { minutes: minutes });
  }

  async function move() {
    const from = moving;
    let answer = null;
    let body = {};
    try {
      answer = await post(`/api/v1/appointments/${encodeURIComponent(from.code)}/move`, { phone: from.phone, start: slot.start });
      body = await answer.json().catch(() => ({}));
    } catch (error) { /* said below */ }
    if (answer && answer.status === 200) { keep(body, from.phone); return; }
    if (answer && body.error && body.error.code === "slot_full") { slotTaken(); return; }
    showBooked(from);
    bookedProblem(answer, body);
  }

  async function cancel() {
    const a = shown;
    let answer = null;
    let body = {};
    try {
      answer = await post(`/api/v1/appointments/${encodeURIComponent(a.code)}/cancel`, { phone: a.phone });
      body = await answer.json().catch(() => ({}));
    } catch (error) { /* said below */ }
    if (answer && answer.status === 200) {
      store(kept().filter((k) => k.code !== a.code));
      showBooked({ ...body, phone: a.phone });
      return;
    }
    $("confirm-cancel").hidden = true;
    bookedProblem(answer, body);
  }

  // ---- start ---------------------------------------------------------------------------------

  for (const el of document.querySelectorAll("[data-say]")) say(el, el.dataset.say);
  // A language's own name, the same in both catalogues: said once.
  for (const el of document.querySelectorAll("[data-name]")) el.textContent = texts.vi[el.dataset.name];
  for (const el of document.querySelectorAll("[data-back]")) el.addEventListener("click", () => go(el.dataset.back));
  $("search").addEventListener("input", showServices);
  $("branch-search").addEventListener("input", filterBranches);
  $("locate").addEventListener("click", locate);
  $("phone-step").addEventListener("submit", take);
  $("phone").addEventListener("input", hideProblem);
  $("id-number").addEventListener("input", hideProblem);
  $("phone-back").addEventListener("click", () => (booking ? go("when") : go("where")));
  $("move").addEventListener("click", () => { moving = shown; showDays(); });
  $("cancel").addEventListener("click", () => { $("confirm-cancel").hidden = false; $("booked-actions").hidden = true; });
  $("cancel-no").addEventListener("click", () => showBooked(shown));
  $("cancel-yes").addEventListener("click", cancel);
  const title = booking ? "bpage.title" : "rpage.title";
  say($("title"), title);
  say($("take"), booking ? "bpage.phone.book" : "rpage.phone.take");
  say($("phone-hint"), booking ? "bpage.phone.hint" : "rpage.phone.hint");
  $("id-field").hidden = $("id-hint").hidden = !booking;
  document.title = text("vi", title);
  showServices();
  go("service");
}());
