// The manager's dashboard: Now (queues against the wait target, counters live, re-skilling and
// opening or closing them, the staffing advice applied in one click and undone), Today (the day's
// charts), Reports (display/report.js fills its section) and, for admins, the City side by side.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = (key, params) => Staff.t(key, params);
  const TABS = ["now", "today", "reports", "city"];
  const REFRESH_MS = 30000;         // Today and City are figures of the day: every half minute is live enough
  const ADVICE_EVERY_MS = 10000;    // the advice follows the queue this often at most (and at once after a change made here)
  const UNDO_KEY = "motcua.manager.undo.";
  const COMPACT_CHIPS = 8;          // more fields than this and a counter's chips show letters only

  let session = null;
  let branches = [];                // GET /branches: names and letters of each branch's services
  let branch = null;
  let state = null;                 // the latest staff_queue
  let advice = null;
  let today = null;
  let city = null;
  let tab = "now";
  let socket = null;
  let adviceTimer = null;
  let kioskOut = null;              // the `kiosk` event of a kiosk of this branch revoked since the page opened
  const charts = {};

  start();

  async function start() {
    session = await Staff.session();
    Staff.header("manager.title", redraw);
    const listed = await Staff.api("GET", "/branches");
    branches = listed.status === 200 ? listed.body : [];
    const asked = new URLSearchParams(location.search).get("branch");
    const isAdmin = session.role === "admin";
    branch = session.branch || (branches.some((b) => b.id === asked) ? asked : (branches[0] || {}).id);
    if (isAdmin) {
      const pick = $("branch");
      for (const b of branches) pick.append(new Option(b.name[Staff.lang()], b.id));
      pick.value = branch;
      pick.addEventListener("change", () => chooseBranch(pick.value));
      $("branch-pick").hidden = false;
      $("branch-name").hidden = true;   // the picker names the branch
      document.querySelector(".tab-button[data-tab='city']").hidden = false;
    }
    if (!(session.role === "manager" || isAdmin)) say(t("staff.error.forbidden"), "bad");
    document.querySelectorAll(".tab-button").forEach((button) =>
      button.addEventListener("click", () => { location.hash = button.dataset.tab; }));
    window.addEventListener("hashchange", showTab);
    $("apply").addEventListener("click", applyAdvice);
    $("undo").addEventListener("click", undoAdvice);
    setInterval(() => { if (state) drawCounters(); }, 15000);   // the minutes shown on each counter move on
    setInterval(() => { if (tab === "today") loadToday(); if (tab === "city") loadCity(); }, REFRESH_MS);
    chooseBranch(branch);
    showTab();
  }

  function chooseBranch(id) {
    branch = id;
    state = advice = today = null;
    const url = new URL(location.href);
    if (session.role === "admin") { url.searchParams.set("branch", id); history.replaceState(null, "", url); }
    $("branch-name").textContent = branchName(id);
    const reports = $("reports");
    reports.dataset.branch = id;   // what display/report.js reports on
    reports.dispatchEvent(new CustomEvent("motcua:branch", { detail: { branch: id } }));
    if (socket) socket.disconnect();
    kioskOut = null;
    $("kiosk-alert").hidden = true;
    socket = Staff.socket(id, { staff_queue: onState, error: onSocketError, kiosk: onKiosk }, (live) => {
      $("live").dataset.text = live ? "staff.live" : "staff.offline";
      $("live").className = live ? "live ok" : "live bad";
      $("live").textContent = t($("live").dataset.text);
    });
    drawUndo();
    loadAdvice();
    if (tab === "today") loadToday();
  }

  function showTab() {
    const asked = location.hash.replace("#", "");
    tab = TABS.includes(asked) && !(asked === "city" && session.role !== "admin") ? asked : "now";
    for (const name of TABS) {
      $("tab-" + name).hidden = name !== tab;
      const button = document.querySelector(`.tab-button[data-tab='${name}']`);
      button.classList.toggle("active", name === tab);
      button.setAttribute("aria-pressed", String(name === tab));
    }
    document.body.dataset.tab = tab;
    if (tab === "today") loadToday();
    if (tab === "city") loadCity();
  }

  function redraw() {
    $("branch-name").textContent = branchName(branch);
    [...$("branch").options].forEach((option) => { option.text = branchName(option.value); });
    if (state) drawState();
    if (advice) drawAdvice();
    if (today) drawToday();
    if (city) drawCity();
    drawKioskOut();
    $("live").textContent = t($("live").dataset.text);
  }

  // ---- names ---------------------------------------------------------------------------------

  function branchOf(id) { return branches.find((b) => b.id === id) || { id: id, name: { vi: id, en: id }, services: [] }; }
  function branchName(id) { return branchOf(id).name[Staff.lang()]; }
  function serviceOf(id) {
    return branchOf(branch).services.find((s) => s.id === id) || { id: id, letter: "", name: { vi: id, en: id } };
  }
  function serviceName(id) { return serviceOf(id).name[Staff.lang()]; }
  // An estimate in words: none when no counter serves, "no wait" for nothing ahead.
  function waitText(minutes) {
    if (minutes === null || minutes === undefined) return t("manager.no_estimate");
    return minutes === 0 ? t("manager.no_wait") : t("staff.minutes", { minutes: minutes });
  }
  function minutesSince(iso) { return iso ? Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000)) : null; }
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function say(text, kind) {
    const banner = $("message");
    banner.textContent = text;
    banner.className = "banner " + (kind || "ok");
    banner.hidden = false;
    clearTimeout(say.timer);
    if (kind !== "bad") say.timer = setTimeout(() => { banner.hidden = true; }, 6000);
  }

  function refusal(result) {
    const code = result.body && result.body.error && result.body.error.code;
    const own = "manager.error." + code;
    return t(own) !== own ? t(own) : Staff.errorText(result);
  }

  // ---- Now: queues and counters --------------------------------------------------------------

  function onState(payload) {
    if (payload.branch !== branch) return;
    state = payload;
    drawState();
    // At most one look at the advice per interval however busy the branch: each reads weeks of arrivals.
    if (!adviceTimer) adviceTimer = setTimeout(() => { adviceTimer = null; loadAdvice(); }, ADVICE_EVERY_MS);
  }

  // A kiosk revoked by an admin is out of service: said until the page is left, in the page's language.
  function onKiosk(event) {
    if (!event || event.branch !== branch || event.problem !== "revoked") return;
    kioskOut = event;
    drawKioskOut();
  }

  function drawKioskOut() {
    if (!kioskOut) return;
    $("kiosk-alert").textContent = t("manager.kiosk_revoked", { kiosk: kioskOut.kiosk, time: kioskOut.at.slice(11, 16) });
    $("kiosk-alert").hidden = false;
  }

  function onSocketError(payload) {
    say(Staff.errorText({ body: payload }), "bad");
  }

  function drawState() {
    $("target").textContent = t("manager.now.target", { minutes: Staff.settings.target_wait_min });
    const body = $("services").tBodies[0];
    body.replaceChildren();
    for (const service of state.services) {
      const row = el("tr");
      row.dataset.service = service.id;
      const name = el("td");
      const label = el("div", "service-name");
      label.append(el("span", "letter", serviceOf(service.id).letter), el("span", null, serviceName(service.id)));
      name.append(label);
      const wait = el("td", "num");
      const minutes = service.estimated_wait_min;
      // Citizens waiting for a service no open counter serves: the worst case, not a grey one.
      const level = minutes === null && service.waiting > 0 ? "bad" : Staff.waitClass(minutes);
      wait.append(el("span", "pill estimate " + level, waitText(minutes)));
      const serving = state.counters.filter((c) => status(c) !== "closed" && status(c) !== "paused"
                                                   && c.services.includes(service.id)).length;
      // Counters the target needs over the coming hour (the advice's Erlang C), against those serving now.
      const need = advice && advice.services.find((n) => n.service === service.id);
      const needed = el("td", "num needed" + (need && need.needed > serving ? " bad" : ""), need ? need.needed : "–");
      row.append(name, el("td", "num waiting", service.waiting), wait, el("td", "num serving", serving), needed);
      body.append(row);
    }
    drawCounters();
  }

  // The counter helper's staff-state carries the status; worked out here from the rest otherwise.
  function status(counter) {
    if (counter.status) return counter.status;
    if (!counter.open) return "closed";
    if (counter.paused) return "paused";
    if (counter.ticket) return counter.ticket.status === "called" ? "called" : "serving";
    return "idle";
  }

  function drawCounters() {
    const box = $("counters");
    box.replaceChildren();
    const offered = branchOf(branch).services;
    for (const counter of state.counters) {
      const now = status(counter);
      // An idle counter is worth a look only while citizens wait for what it serves.
      const work = state.services.some((q) => q.waiting > 0 && counter.services.includes(q.id));
      const card = el("article", "counter-card " + now + (now === "idle" && work ? " attention" : ""));
      card.dataset.counter = counter.id;
      const head = el("div", "counter-head");
      head.append(el("h3", null, t("manager.counter", { counter: counter.id })),
                  el("span", "pill status " + now, t("manager.status." + now)
                     + (now === "paused" && counter.pause_reason ? " · " + t("manager.pause." + counter.pause_reason) : "")),
                  el("span", "spacer"));
      const ticket = counter.ticket;
      let line;
      if (ticket) {
        line = el("p", "current", t("manager.ticket_for", { number: ticket.number,
                                                             minutes: minutesSince(ticket.started_at || ticket.called_at) }));
      } else if (now === "idle" && counter.idle_since) {
        line = el("p", "current idle", t("manager.idle_for", { minutes: minutesSince(counter.idle_since) }));
      } else {
        line = el("p", "current quiet", t("manager.no_ticket"));
      }
      // Who works the counter (one officer at a time): the staff-state's holder.
      const holder = el("p", "holder" + (counter.holder ? "" : " free"),
                        counter.holder ? t("manager.held_by", { holder: counter.holder }) : t("manager.free"));
      // Many fields: the chips show their letters (the services table names them), the name is the label.
      const chips = el("div", "chips" + (offered.length > COMPACT_CHIPS ? " compact" : ""));
      chips.setAttribute("role", "group");   // a name on a plain div is not read: a group of buttons has one
      chips.setAttribute("aria-label", t("manager.counter_services"));
      for (const service of offered) {
        const on = counter.services.includes(service.id);
        const chip = el("button", "chip" + (on ? " on" : ""));
        chip.type = "button";
        chip.dataset.service = service.id;
        chip.setAttribute("aria-pressed", String(on));
        chip.title = service.name[Staff.lang()];
        chip.setAttribute("aria-label", service.letter + " " + service.name[Staff.lang()]);
        chip.append(el("b", null, service.letter), el("span", null, service.name[Staff.lang()]));
        chip.addEventListener("click", () => toggleService(counter, service.id));
        chips.append(chip);
      }
      const openClose = el("button", counter.open ? "close-counter" : "open-counter primary",
                           t(counter.open ? "manager.close_counter" : "manager.open_counter"));
      openClose.type = "button";
      openClose.addEventListener("click", () => changeCounter(counter.id, { open: !counter.open }));
      if (now === "paused") {
        // A paused counter is dealt no tickets: the manager may bring it back as its officer would.
        const resume = el("button", "resume-counter primary", t("manager.resume"));
        resume.type = "button";
        resume.addEventListener("click", () => resumeCounter(counter.id));
        head.append(resume);
      } else {
        head.append(openClose);
      }
      card.append(head, line, holder, chips);
      box.append(card);
    }
  }

  function toggleService(counter, service) {
    const order = branchOf(branch).services.map((s) => s.id);
    const chosen = counter.services.includes(service)
      ? counter.services.filter((s) => s !== service)
      : order.filter((s) => s === service || counter.services.includes(s));
    if (!chosen.length) { say(t("manager.last_service"), "warn"); return; }
    changeCounter(counter.id, { services: chosen });
  }

  // What the server answered for counters just changed, drawn at once: the staff room's push follows.
  function showCounters(changed) {
    if (!state) return;
    state.counters = state.counters.map((c) => {
      const now = changed.find((x) => x.id === c.id);
      return now ? { ...c, services: now.services, open: now.open, status: undefined } : c;
    });
    drawState();
  }

  async function changeCounter(id, change) {
    document.querySelectorAll(`.counter-card[data-counter='${id}'] button`).forEach((b) => { b.disabled = true; });
    const result = await Staff.api("POST", `/branches/${branch}/counters/${id}`, change);
    if (result.status === 200) {
      say(t("manager.saved", { counter: id }), "ok");
      showCounters([result.body]);
      loadAdvice();
    } else {
      say(refusal(result), "bad");
      drawCounters();
    }
  }

  async function resumeCounter(id) {
    const result = await Staff.api("POST", `/branches/${branch}/counters/${id}/resume`, {});
    if (result.status === 200) say(t("manager.saved", { counter: id }), "ok");
    else say(refusal(result), "bad");
  }

  // ---- Now: the staffing advice --------------------------------------------------------------

  async function loadAdvice() {
    const asked = branch;
    const result = await Staff.api("GET", `/branches/${asked}/recommendations`);
    if (asked !== branch) return;
    if (result.status !== 200) { advice = null; $("apply").disabled = true; return; }
    advice = result.body;
    drawAdvice();
    if (state) drawState();
  }

  function drawAdvice() {
    $("advice-basis").textContent = t("manager.advice.basis", {
      horizon: Math.round(advice.horizon_min), level: Math.round(advice.service_level * 100), target: advice.target_wait_min });
    const moves = $("moves");
    moves.replaceChildren();
    for (const move of advice.moves) {
      const item = el("li");
      item.dataset.counter = move.counter;
      item.append(el("div", "move-text", move.text[Staff.lang()]), el("div", "move-reason", move.reason[Staff.lang()]));
      moves.append(item);
    }
    // No move left to make is not the same as nothing short: say which services the counters cannot cover.
    const short = advice.services.filter((s) => s.short).map((s) => s.name[Staff.lang()]);
    $("advice-none").textContent = short.length
      ? t("manager.advice.short", { services: short.join(t("list.separator")) }) : t("manager.advice.none");
    $("advice-none").classList.toggle("still-short", short.length > 0);
    $("advice-none").hidden = advice.moves.length > 0;
    $("apply").disabled = advice.moves.length === 0;
  }

  async function applyAdvice() {
    if (!advice || !advice.moves.length) return;
    $("apply").disabled = true;
    // The moves the manager read, not whatever the advice says by now: a counter changed in between refuses them.
    const moves = advice.moves.map((m) => ({ counter: m.counter, from_services: m.from_services, to_services: m.to_services }));
    const result = await Staff.api("POST", `/branches/${branch}/recommendations/apply`, { moves: moves });
    if (result.status === 200) {
      sessionStorage.setItem(UNDO_KEY + branch, JSON.stringify(result.body));
      showCounters(result.body.after);
      say(t("manager.advice.applied", { count: result.body.moves.length }), "ok");
    } else {
      say(refusal(result), "bad");
    }
    drawUndo();
    loadAdvice();
  }

  async function undoAdvice() {
    const applied = JSON.parse(sessionStorage.getItem(UNDO_KEY + branch) || "null");
    if (!applied) return;
    $("undo").disabled = true;
    const moves = applied.after.map((after, i) => ({ counter: after.id, from_services: after.services,
                                                     to_services: applied.before[i].services }));
    const result = await Staff.api("POST", `/branches/${branch}/recommendations/apply`, { moves: moves });
    if (result.status === 200) {
      say(t("manager.advice.undone"), "ok");
      showCounters(result.body.after);
      sessionStorage.removeItem(UNDO_KEY + branch);
    } else {
      say(refusal(result), "bad");
      // Once a counter has moved on, this undo can never succeed: it is dropped.
      if (result.status === 409) sessionStorage.removeItem(UNDO_KEY + branch);
    }
    drawUndo();
    loadAdvice();
  }

  function drawUndo() {
    const applied = sessionStorage.getItem(UNDO_KEY + branch);
    $("undo").hidden = !applied;
    $("undo").disabled = false;
  }

  // ---- Today ---------------------------------------------------------------------------------

  async function loadToday() {
    const asked = branch;
    const result = await Staff.api("GET", `/branches/${asked}/today`);
    if (asked !== branch || tab !== "today") return;
    if (result.status !== 200) { say(refusal(result), "bad"); return; }
    today = result.body;
    drawToday();
  }

  function tile(label, value, className) {
    const box = el("div", "tile " + (className || ""));
    box.append(el("div", "value", value), el("div", "label", label));
    return box;
  }

  function drawToday() {
    const s = today.totals;
    const dash = "–";
    const mean = s.mean_wait_min === null ? dash : t("staff.minutes", { minutes: Math.round(s.mean_wait_min) });
    $("totals").replaceChildren(
      tile(t("manager.today.tickets"), s.tickets),
      tile(t("manager.today.served"), s.served),
      tile(t("manager.today.waiting"), s.waiting),
      tile(t("manager.today.no_shows"), s.no_shows),
      tile(t("manager.today.mean_wait"), mean, Staff.waitClass(s.mean_wait_min)),
      tile(t("manager.today.within"), s.within_target_pct === null ? dash : t("manager.percent", { value: Math.round(s.within_target_pct) })),
      tile(t("manager.today.mean_rating", { count: s.ratings }),
           s.mean_rating === null ? dash : t("manager.today.of_four", { value: Staff.number(s.mean_rating, 1) })));
    const hours = today.hours;
    const target = today.target_wait_min;
    chart("wait", "line", hours, [
      { label: t("manager.chart.wait_mean"), data: today.wait_mean_min, borderColor: colour("brand"),
        backgroundColor: colour("brand"), spanGaps: true, borderWidth: 3 },
      { label: t("manager.chart.wait_p90"), data: today.wait_p90_min, borderColor: colour("warn"),
        backgroundColor: colour("warn"), borderDash: [6, 4], spanGaps: true, borderWidth: 2 },
      { label: t("manager.chart.target", { minutes: target }), data: hours.map(() => target), borderColor: colour("bad"),
        borderDash: [2, 3], pointRadius: 0, borderWidth: 2 },
    ], { beginAtZero: true });
    chart("arrivals", "bar", hours, [{ data: today.arrivals, backgroundColor: colour("brand") }], { legend: false, integer: true });
    chart("within", "bar", hours, [{ data: today.within_target_pct,
      backgroundColor: today.wait_mean_min.map((m) => colour(Staff.waitClass(m))) }], { legend: false, max: 100 });
    chart("no-shows", "bar", hours, [{ data: today.no_shows, backgroundColor: colour("none") }], { legend: false, integer: true });
    const scores = today.ratings.scores.slice().reverse();   // very satisfied first
    chart("ratings", "bar", scores.map((s) => t("rating.score." + s.score)),
          [{ data: scores.map((s) => s.count), backgroundColor: scores.map((s) => colour(["bad", "warn", "brand", "ok"][s.score - 1])) }],
          { legend: false, integer: true, horizontal: true, head: "manager.chart.score" });
    const reasons = today.ratings.reasons;
    chart("reasons", "bar", reasons.map((r) => t("rating.reasons." + r.reason)),
          [{ data: reasons.map((r) => r.count), backgroundColor: colour("brand") }],
          { legend: false, integer: true, horizontal: true, head: "manager.chart.reason" });
    const list = $("comments");
    list.replaceChildren();
    for (const c of today.ratings.comments) {
      const item = el("li", "comment score-" + c.score);
      item.append(el("div", "comment-head", t("manager.comment_of", { number: c.number, time: c.at.slice(11, 16) })
                                            + " · " + t("rating.score." + c.score)),
                  el("div", "comment-text", c.comment));
      list.append(item);
    }
    $("no-comments").hidden = today.ratings.comments.length > 0;
  }

  // The page's own colours (staff.css), for the charts.
  function colour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim();
  }

  function chart(name, type, labels, datasets, options) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 15;
    Chart.defaults.color = colour("ink");
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    const horizontal = Boolean(options.horizontal);
    const value = { beginAtZero: true, ticks: options.integer ? { precision: 0 } : {} };
    if (options.max) value.max = options.max;
    const config = {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: options.legend !== false, position: "bottom" } },
        scales: horizontal ? { x: value } : { y: value },
      },
    };
    if (charts[name]) {
      charts[name].data = config.data;
      charts[name].options = config.options;
      charts[name].update();
    } else {
      charts[name] = new Chart($("chart-" + name), config);
    }
    figures(name, labels, datasets, options);
  }

  // A chart's text alternative: the same figures as a table a screen reader reads (the picture is hidden
  // from it), captioned with the chart's title and written the page's way (decimal comma in Vietnamese).
  function figures(name, labels, datasets, options) {
    const canvas = $("chart-" + name);
    canvas.setAttribute("aria-hidden", "true");
    const card = canvas.closest("section");
    let table = card.querySelector("table.chart-figures");
    if (!table) {
      table = el("table", "chart-figures");
      table.dataset.chart = name;
      const hidden = el("div", "visually-hidden");   // a box, not the table: a table is never narrower than its text
      hidden.append(table);
      card.append(hidden);
    }
    const title = card.querySelector("h2").textContent;
    const digits = options.integer ? 0 : 1;
    const head = el("tr");
    head.append(el("th", null, t(options.head || "manager.chart.hour")),
                ...datasets.map((d) => el("th", null, d.label || title)));
    head.querySelectorAll("th").forEach((th) => th.setAttribute("scope", "col"));
    const rows = labels.map((label, i) => {
      const row = el("tr");
      const cell = el("th", null, label);
      cell.setAttribute("scope", "row");
      row.append(cell, ...datasets.map((d) => {
        const value = d.data[i];
        return el("td", null, value === null || value === undefined ? "–" : Staff.number(value, digits));
      }));
      return row;
    });
    const caption = el("caption", null, title);
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    tbody.append(...rows);
    table.replaceChildren(caption, thead, tbody);
  }

  // ---- City (admins) -------------------------------------------------------------------------

  async function loadCity() {
    const result = await Staff.api("GET", "/city");
    if (tab !== "city") return;
    if (result.status !== 200) { say(refusal(result), "bad"); return; }
    city = result.body;
    drawCity();
  }

  function drawCity() {
    $("city-target").textContent = t("manager.now.target", { minutes: city.target_wait_min }) + " · "
      + t("manager.updated", { time: city.at.slice(11, 16) });
    const body = $("city").tBodies[0];
    body.replaceChildren();
    const dash = "–";
    for (const b of city.branches) {
      const row = el("tr");
      row.dataset.branch = b.branch;
      const longest = el("td", "num");
      longest.append(el("span", "pill " + Staff.waitClass(b.longest_wait_min), waitText(b.longest_wait_min)));
      const mean = el("td", "num");
      mean.append(el("span", "pill " + Staff.waitClass(b.mean_wait_min),
                     b.mean_wait_min === null ? dash : t("staff.minutes", { minutes: Math.round(b.mean_wait_min) })));
      const within = el("td", "within");
      const box = el("div", "within-box");
      const bar = el("div", "bar");
      const fill = el("span", b.within_target_pct === null ? "" : Staff.waitClass(b.mean_wait_min));
      fill.style.width = (b.within_target_pct || 0) + "%";
      bar.append(fill);
      box.append(bar, el("span", "num", b.within_target_pct === null ? dash
                                              : t("manager.percent", { value: Math.round(b.within_target_pct) })));
      within.append(box);
      const open = el("button", "quiet", t("manager.city.open_branch"));
      open.type = "button";
      // Fifty buttons of the same words: each says its branch to a screen reader (its words first, as shown).
      open.setAttribute("aria-label", t("manager.city.open_branch") + ": " + b.name[Staff.lang()]);
      open.addEventListener("click", () => { $("branch").value = b.branch; chooseBranch(b.branch); location.hash = "now"; });
      const action = el("td");
      action.append(open);
      row.append(el("td", "branch-cell", b.name[Staff.lang()]),
                 el("td", "num", t("manager.of_counters", { open: b.counters_open, total: b.counters })),
                 el("td", "num", b.serving), el("td", "num waiting", b.waiting),
                 el("td", "num load", b.load === null ? dash : Staff.number(b.load, 1)), longest,
                 el("td", "num", b.tickets), el("td", "num", b.served), mean, within, action);
      body.append(row);
    }
    const names = city.branches.map((b) => b.name[Staff.lang()]);
    chart("city", "bar", names, [
      { label: t("manager.city.mean_wait"), data: city.branches.map((b) => b.mean_wait_min),
        backgroundColor: city.branches.map((b) => colour(Staff.waitClass(b.mean_wait_min))) },
      { label: t("manager.city.longest"), data: city.branches.map((b) => b.longest_wait_min), backgroundColor: colour("brand") },
      { type: "line", label: t("manager.chart.target", { minutes: city.target_wait_min }),
        data: names.map(() => city.target_wait_min), borderColor: colour("bad"), borderDash: [2, 3], pointRadius: 0, borderWidth: 2 },
    ], { head: "manager.branch" });
  }
})();
