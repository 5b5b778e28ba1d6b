/* The Reports section of the manager page: a range of local days, the branch's figures per service,
   per counter and per officer from GET /api/v1/branches/{b}/report.json, and the same report as CSV;
   below them the dossiers received over the range, per department and per procedure
   (GET /api/v1/branches/{b}/dossiers-report.json, and its CSV).
   It fills <section id="reports"> on its own; the page may name the branch in data-branch. */
(function () {
  "use strict";

  const section = document.getElementById("reports");
  if (!section || !window.Staff) {
    return;
  }
  const COLUMNS = ["tickets", "served", "no_shows", "mean_wait_min", "p90_wait_min", "within_target_pct",
                   "mean_service_min", "ratings", "mean_rating"];
  const COUNTS = new Set(["tickets", "served", "no_shows", "ratings"]);
  const WAITS = new Set(["mean_wait_min", "p90_wait_min"]);
  const NONE = {counter: "report.none_counter", officer: "report.none_officer"};
  const GROUPS = [["services", "service", "report.by_service"], ["counters", "counter", "report.by_counter"],
                  ["officers", "officer", "report.by_officer"]];
  // The dossier figures; per procedure only those received, the CSV lists every one of the catalogue.
  const DOSSIER_COLUMNS = ["received", "on_time", "late", "overdue", "returned", "rejected", "open"];
  const DOSSIER_GROUPS = [["departments", "department", "dreports.by_department"],
                          ["procedures", "procedure", "dreports.by_procedure"]];
  const timezone = (Staff.settings && Staff.settings.timezone) || "Asia/Ho_Chi_Minh";
  const t = (key, params) => Staff.t(key, params);
  let branch = null;
  let names = {};   // service id -> {vi, en}
  const catalogue = {department: {}, procedure: {}};   // code -> {vi, en}
  let lastDossiers = null;
  let last = null;  // the last report shown, drawn again when the language changes
  let asked = 0;    // the latest request: an earlier one answering late is not drawn over it

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") {
        node.textContent = value;
      } else if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? "" : value);
      }
    }
    for (const child of children || []) {
      node.append(child);
    }
    return node;
  }

  // ---- local days: the branch network's calendar, not the browser's -------------------------

  function today() {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat("en-CA", {timeZone: timezone, year: "numeric", month: "2-digit",
                                              day: "2-digit"}).format(new Date());
  }

  function shift(day, days) {
    const [y, m, d] = day.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }

  function monthStart(day) {
    return day.slice(0, 8) + "01";
  }

  const PRESETS = {
    "report.today": () => [today(), today()],
    "report.last_7": () => [shift(today(), -6), today()],
    "report.this_month": () => [monthStart(today()), today()],
    "report.last_month": () => {
      const end = shift(monthStart(today()), -1);
      return [monthStart(end), end];
    },
  };

  // ---- the form ----------------------------------------------------------------------------

  // Text, not <input type=date>: that one writes days as the browser's own locale does (mm/dd/yyyy in an
  // English Chromium, whatever the page's language); these are read and written the page's way.
  const fromInput = el("input", {type: "text", id: "report-from", name: "from", inputmode: "numeric",
                                 autocomplete: "off", spellcheck: "false"});
  const toInput = el("input", {type: "text", id: "report-to", name: "to", inputmode: "numeric",
                               autocomplete: "off", spellcheck: "false"});
  const showButton = el("button", {type: "submit", class: "primary", id: "report-show"});
  const csvLink = el("a", {class: "button report-csv", id: "report-csv", download: true});
  const status = el("p", {class: "report-status", id: "report-status", role: "status", "aria-live": "polite"});
  const tables = el("div", {class: "report-tables", id: "report-tables"});
  const dossierCsv = el("a", {class: "button report-csv", id: "dreports-csv", download: true});
  const dossierStatus = el("p", {class: "report-status", id: "dreports-status", role: "status"});
  const dossierTables = el("div", {class: "report-tables", id: "dreports-tables"});
  const dossiers = el("div", {class: "dreports", id: "dreports"}, [
    el("div", {class: "dreports-head"}, [el("h2", {"data-text": "dreports.title"}), dossierCsv]),
    el("p", {class: "report-note", "data-text": "dreports.note"}), dossierStatus, dossierTables,
  ]);
  const presets = el("div", {class: "report-presets"});
  const form = el("form", {class: "report-form", id: "report-form"}, [
    el("label", {for: "report-from"}, [el("span", {"data-text": "report.from"}),
                                       el("span", {class: "report-date-hint", "data-text": "report.date_hint"}), fromInput]),
    el("label", {for: "report-to"}, [el("span", {"data-text": "report.to"}),
                                     el("span", {class: "report-date-hint", "data-text": "report.date_hint"}), toInput]),
    showButton, csvLink,
  ]);
  const heading = el("h2", {"data-text": "report.title"});
  const note = el("p", {class: "report-note", "data-text": "report.note"});

  for (const key of Object.keys(PRESETS)) {
    const button = el("button", {type: "button", class: "report-preset", "data-preset": key, "data-text": key});
    button.addEventListener("click", () => {
      setDays(...PRESETS[key]());
      load();
    });
    presets.append(button);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  for (const input of [fromInput, toInput]) {
    input.addEventListener("change", updateLink);
  }

  // ---- days as the page's language writes them (vi-VN and en-GB: day/month/year) ------------

  function order() {
    return new Intl.DateTimeFormat(Staff.locale(), {timeZone: "UTC", day: "2-digit", month: "2-digit",
                                                    year: "numeric"})
      .formatToParts(new Date(0)).filter((part) => part.type !== "literal").map((part) => part.type);
  }

  // What was typed, read in the page's order: "YYYY-MM-DD", or null when it is no day of the calendar.
  function readDay(text) {
    const parts = text.trim().split(/[/.\-\s]+/);
    if (parts.length !== 3 || !parts.every((part) => /^\d{1,4}$/.test(part))) {
      return null;
    }
    const at = {};
    order().forEach((type, i) => {
      at[type] = Number(parts[i]);
    });
    const made = new Date(Date.UTC(at.year, at.month - 1, at.day));
    if (at.year < 1000 || made.getUTCFullYear() !== at.year || made.getUTCMonth() !== at.month - 1 ||
        made.getUTCDate() !== at.day) {
      return null;
    }
    return made.toISOString().slice(0, 10);
  }

  function setDays(first, last) {
    for (const [input, iso] of [[fromInput, first], [toInput, last]]) {
      input.value = day(iso);
      input.dataset.day = iso;
      mark(input, false);
    }
  }

  function mark(input, bad) {
    if (bad) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "report-status");
    } else {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }

  // The range typed, as the API takes it; null (the fields marked, the status saying why) when a day is wrong.
  function range() {
    const days = [fromInput, toInput].map((input) => [input, readDay(input.value)]);
    for (const [input, iso] of days) {
      mark(input, iso === null);
      if (iso !== null) {
        input.dataset.day = iso;
      }
    }
    const wrong = days.find(([, iso]) => iso === null);
    if (wrong) {
      status.className = "report-status bad";
      status.textContent = t("report.bad_day", {text: wrong[0].value.trim(), example: day(today())});
      return null;
    }
    return days.map(([, iso]) => iso);
  }

  function query(days) {
    return `from=${encodeURIComponent(days[0])}&to=${encodeURIComponent(days[1])}`;
  }

  function updateLink() {
    const days = [fromInput, toInput].map((input) => readDay(input.value));
    if (branch && !days.includes(null)) {
      csvLink.href = `/api/v1/branches/${encodeURIComponent(branch)}/report.csv?${query(days)}`;
      dossierCsv.href = `/api/v1/branches/${encodeURIComponent(branch)}/dossiers-report.csv?${query(days)}`;
    } else {
      csvLink.removeAttribute("href");
      dossierCsv.removeAttribute("href");
    }
  }

  function label() {
    for (const node of section.querySelectorAll("[data-text]")) {
      node.textContent = t(node.dataset.text);
    }
    showButton.textContent = t("report.show");
    csvLink.textContent = t("report.download_csv");
    dossierCsv.textContent = t("dreports.download_csv");
  }

  // ---- the report --------------------------------------------------------------------------

  async function load() {
    updateLink();
    if (!branch) {
      return;
    }
    const days = range();
    if (!days) {
      asked++;   // an answer still on its way is not drawn over what the status says
      last = lastDossiers = null;
      tables.replaceChildren();
      dossierTables.replaceChildren();
      dossierStatus.textContent = "";
      section.removeAttribute("aria-busy");
      return;
    }
    status.textContent = t("report.loading");
    status.className = "report-status";
    section.setAttribute("aria-busy", "true");
    const mine = ++asked;
    const where = `/branches/${encodeURIComponent(branch)}`;
    // Both reports asked at once: the dossiers' is drawn when it answers, whatever the tickets' says.
    const [answer, dossierAnswer] = await Promise.all([Staff.api("GET", `${where}/report.json?${query(days)}`),
                                                       Staff.api("GET", `${where}/dossiers-report.json?${query(days)}`)]);
    if (mine !== asked) {
      return;
    }
    lastDossiers = dossierAnswer.status === 200 ? dossierAnswer.body : null;
    drawDossiers(lastDossiers, dossierAnswer);
    section.removeAttribute("aria-busy");
    if (answer.status !== 200) {
      last = null;
      tables.replaceChildren();
      status.className = "report-status bad";
      status.textContent = refusal(answer);
      return;
    }
    last = answer.body;
    draw(last);
  }

  function refusal(answer) {
    const code = answer.body && answer.body.error ? answer.body.error.code : String(answer.status);
    if (answer.status === 400 && t("report.error." + code) !== "report.error." + code) {
      return t("report.error." + code);
    }
    if (answer.status === 403) {
      return t("report.error.forbidden");
    }
    return t("report.error.other", {code});
  }

  function number(value, column) {
    if (value === null || value === undefined) {
      return "–";
    }
    const locale = Staff.locale();
    const digits = COUNTS.has(column) ? 0 : (column === "mean_rating" ? 2 : 1);
    const text = new Intl.NumberFormat(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits})
      .format(value);
    return column === "within_target_pct" ? text + " %" : text;
  }

  function who(kind, key) {
    if (kind === "service") {
      const name = names[key];
      return name ? (name[Staff.lang()] || name.vi) : key;
    }
    return kind === "counter" ? t("report.counter_name", {counter: key}) : key;
  }

  function row(kind, figures, head) {
    const cells = [el("th", {scope: "row", text: head})];
    for (const column of COLUMNS) {
      const value = figures[column];
      const wait = WAITS.has(column) && value !== null ? Staff.waitClass(value) : null;
      cells.push(el("td", {class: wait ? "num " + wait : "num", "data-column": column, text: number(value, column)}));
    }
    return el("tr", {"data-key": kind ? figures[kind] : "total"}, cells);
  }

  function table(report, group, kind, title) {
    const rows = report[group];
    const caption = el("h3", {text: t(title)});
    if (group !== "services" && rows.length === 0) {
      return el("div", {class: "report-group", "data-group": group},
                [caption, el("p", {class: "report-none", text: t(NONE[kind])})]);
    }
    const head = el("tr", {}, [el("th", {scope: "col", text: t("report.col." + kind)}),
      ...COLUMNS.map((c) => el("th", {scope: "col", class: "num",
                                      text: t("report.col." + c, {target: report.target_wait_min})}))]);
    const body = el("tbody", {}, rows.map((r) => row(kind, r, who(kind, r[kind]))));
    const parts = [el("thead", {}, [head]), body];
    if (group === "services") {
      parts.push(el("tfoot", {}, [row(null, report.total, t("report.total"))]));
    }
    return el("div", {class: "report-group", "data-group": group},
              [caption, el("div", {class: "report-scroll"}, [el("table", {class: "report-table"}, parts)])]);
  }

  function day(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return new Intl.DateTimeFormat(Staff.locale(), {timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric"})
      .format(new Date(Date.UTC(y, m - 1, d)));
  }

  function draw(report) {
    status.className = "report-status";
    status.textContent = t("report.range_said", {from: day(report.from), to: day(report.to)});
    const groups = GROUPS.map(([group, kind, title]) => table(report, group, kind, title));
    if (report.total.tickets === 0) {
      groups.unshift(el("p", {class: "report-empty", id: "report-empty", text: t("report.empty")}));
    }
    tables.replaceChildren(...groups);
  }

  // ---- the dossiers ------------------------------------------------------------------------

  function dossierRow(kind, figures, head) {
    const cells = [el("th", {scope: "row", text: head})];
    for (const column of DOSSIER_COLUMNS) {
      // Overdue and late dossiers are what a manager acts on: marked when there are any.
      const bad = (column === "overdue" || column === "late") && figures[column] > 0;
      cells.push(el("td", {class: bad ? "num dreports-bad" : "num", "data-column": column,
                           text: number(figures[column], "tickets")}));
    }
    return el("tr", {"data-key": kind ? figures[kind] : "total"}, cells);
  }

  function dossierName(kind, code) {
    const name = catalogue[kind][code];
    const said = name ? (name[Staff.lang()] || name.vi) : code;
    return kind === "procedure" ? `${code} · ${said}` : said;
  }

  function dossierTable(report, group, kind, title) {
    const rows = report[group].filter((r) => kind === "department" || r.received > 0);
    const head = el("tr", {}, [el("th", {scope: "col", text: t("dreports.col." + kind)}),
      ...DOSSIER_COLUMNS.map((c) => el("th", {scope: "col", class: "num", text: t("dreports.col." + c)}))]);
    const body = el("tbody", {}, rows.map((r) => dossierRow(kind, r, dossierName(kind, r[kind]))));
    const foot = el("tfoot", {}, [dossierRow(null, report.total, t("report.total"))]);
    return el("div", {class: "report-group", "data-group": "dossier-" + group}, [el("h3", {text: t(title)}),
      el("div", {class: "report-scroll"}, [el("table", {class: "report-table"}, [el("thead", {}, [head]), body, foot])])]);
  }

  function drawDossiers(report, answer) {
    if (!report) {
      dossierTables.replaceChildren();
      dossierStatus.className = "report-status bad";
      dossierStatus.textContent = refusal(answer);
      return;
    }
    // The range the tables show, for whoever reads them (a test waits for the range it asked for).
    dossierTables.dataset.range = `${report.from}..${report.to}`;
    dossierStatus.className = "report-status";
    dossierStatus.textContent = report.total.received === 0 ? t("dreports.empty")
      : t("dreports.received_said", {count: report.total.received, today: day(report.today)});
    dossierTables.replaceChildren(...(report.total.received === 0 ? []
      : DOSSIER_GROUPS.map(([group, kind, title]) => dossierTable(report, group, kind, title))));
  }

  // ---- start -------------------------------------------------------------------------------

  async function start() {
    // Its own look, whichever page holds the section: the stylesheet comes with the script.
    if (!document.querySelector('link[href$="/report.css"]')) {
      document.head.append(el("link", {rel: "stylesheet", href: "/display/assets/report.css"}));
    }
    section.classList.add("card", "report");
    section.replaceChildren(heading, presets, form, note, status, tables, dossiers);
    // Busy until the first report is drawn: days typed before the branch is known would be set over by
    // the default week (and a reader, or a test, must not take the empty section for an answer).
    section.setAttribute("aria-busy", "true");
    label();
    let ready = false;
    // The page may name the branch (an admin switching) at any time, even while this starts.
    new MutationObserver(() => {
      if (section.dataset.branch && section.dataset.branch !== branch) {
        branch = section.dataset.branch;
        if (ready) {
          load();
        }
      }
    }).observe(section, {attributes: true, attributeFilter: ["data-branch"]});
    // Staff.translate() marks a change of language on <html lang>: the tables are drawn again in it.
    new MutationObserver(() => {
      label();
      for (const input of [fromInput, toInput]) {
        if (input.dataset.day && input.getAttribute("aria-invalid") !== "true") {
          input.value = day(input.dataset.day);
        }
      }
      if (last) {
        draw(last);
      }
      if (lastDossiers) {
        drawDossiers(lastDossiers);
      }
    }).observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
    const session = await Staff.session();
    const [listed, procedures, departments] = await Promise.all([Staff.api("GET", "/branches"),
      Staff.api("GET", "/procedures"), Staff.api("GET", "/departments")]);
    for (const p of procedures.status === 200 ? procedures.body : []) {
      catalogue.procedure[p.code] = p.name;
    }
    for (const d of departments.status === 200 ? departments.body : []) {
      catalogue.department[d.code] = d.name;
    }
    for (const b of listed.status === 200 ? listed.body : []) {
      for (const s of b.services) {
        names[s.id] = s.name;
      }
    }
    branch = section.dataset.branch || new URLSearchParams(location.search).get("branch") || session.branch ||
      (listed.status === 200 && listed.body.length ? listed.body[0].id : null);
    setDays(...PRESETS["report.last_7"]());
    ready = true;
    await load();
    if (!branch) {   // no branch to report on: nothing is on its way
      section.removeAttribute("aria-busy");
    }
  }

  start();
})();
