// The quarterly satisfaction evaluation report (GET /api/v1/{branches/b|departments/d}/evaluations-report.json):
// a branch's managers see it per department, a department's staff per receiving branch, admins either; the grade
// of the average points per dossier, each overall answer's count, and the same report as CSV and PDF.
(async function () {
  "use strict";
  const S = window.Staff;
  const $ = (id) => document.getElementById(id);
  const settings = S.settings;
  const session = await S.session();
  const NAMES = { branch: settings.branches, department: settings.departments };
  let report = null;

  function name(kind, key) {
    const found = NAMES[kind][key];
    return found ? (found[S.lang()] || found.vi) + " (" + key + ")" : key;
  }

  function scopes() {
    if (session.role === "admin") {
      return Object.keys(settings.branches).map((b) => "branch:" + b)
        .concat(Object.keys(settings.departments).map((d) => "department:" + d));
    }
    return session.role === "department" ? ["department:" + session.department] : ["branch:" + session.branch];
  }

  function fillScopes() {
    const chosen = $("scope").value;
    $("scope").replaceChildren(...scopes().map((scope) => {
      const [kind, key] = scope.split(":");
      const option = document.createElement("option");
      option.value = scope;
      option.textContent = name(kind, key);
      return option;
    }));
    if (chosen) $("scope").value = chosen;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function figures(row) {
    return [cell(S.number(row.evaluated), "num"), cell(row.average === null ? "—" : S.number(row.average, 2), "num"),
            cell(row.grade ? S.t("evaluation.grade." + row.grade) : "—", "grade"),
            cell(S.number(row.very_satisfied), "num"), cell(S.number(row.satisfied), "num"),
            cell(S.number(row.dissatisfied), "num")];
  }

  function render() {
    fillScopes();
    if (!report) return;
    const [kind] = report.scope.split(":");
    const other = kind === "branch" ? "department" : "branch";
    $("period").textContent = S.t("evaluation.report.period", { quarter: report.quarter, year: report.year,
      start: report.from.split("-").reverse().join("/"), end: report.to.split("-").reverse().join("/") });
    const total = report.total;
    $("total").textContent = total.evaluated
      ? S.t("evaluation.report.total_line", { count: S.number(total.evaluated), average: S.number(total.average, 2),
                                              grade: S.t("evaluation.grade." + total.grade) })
      : "";
    $("total").dataset.grade = total.grade || "";
    $("empty").hidden = total.evaluated > 0;
    $("groups-title").textContent = S.t({ branch: "evaluation.report.by_branch",
                                          department: "evaluation.report.by_department" }[other]);
    const rows = report[other === "branch" ? "branches" : "departments"];
    $("groups").tBodies[0].replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.key = row[other];
      tr.append(cell(name(other, row[other])), ...figures(row));
      return tr;
    }));
  }

  async function load() {
    const [kind, key] = $("scope").value.split(":");
    const path = "/" + (kind === "branch" ? "branches" : "departments") + "/" + encodeURIComponent(key) +
      "/evaluations-report";
    const query = "?year=" + encodeURIComponent($("year").value) + "&quarter=" + $("quarter").value;
    const answer = await S.api("GET", path + ".json" + query);
    $("refusal").hidden = answer.status === 200;
    $("report").hidden = answer.status !== 200;
    $("csv").hidden = $("pdf").hidden = answer.status !== 200;
    if (answer.status !== 200) { $("refusal").textContent = S.errorText(answer); return; }
    report = answer.body;
    $("csv").href = "/api/v1" + path + ".csv" + query;
    $("pdf").href = "/api/v1" + path + ".pdf" + query + "&lang=" + S.lang();
    render();
  }

  S.header("evaluation.report.title", () => { render(); if (report) $("pdf").href = $("pdf").href.replace(/lang=\w+/, "lang=" + S.lang()); });
  fillScopes();
  $("year").value = settings.year;
  $("quarter").value = String(settings.quarter);
  $("show").addEventListener("click", load);
  load();
})();
