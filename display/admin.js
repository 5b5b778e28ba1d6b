// The admin page: branches, services, counters, users, devices and the procedure catalogue
// (departments, procedures, document kinds), changed live through /api/v1/admin. Every change is answered by the server once committed; the page then reads the
// whole network again, so what it shows is what the engine, the kiosks and the displays now use.
(function () {
  "use strict";
  const t = Staff.t;
  const $ = (id) => document.getElementById(id);
  const ROLES = ["officer", "manager", "admin", "department"];
  const TABS = ["branches", "services", "counters", "users", "devices", "departments", "procedures", "kinds"];
  const KINDS = ["kiosk", "display"];
  // What the server refuses is also checked here first, to say exactly what is wrong.
  const LETTER = /^[A-Z]{1,2}$/;
  const SERVICE_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
  const COUNTER_ID = /^[0-9A-Za-z-]{1,8}$/;
  const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
  const CODE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
  const PROCEDURE_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
  const KIND = /^[a-z0-9_]{1,40}$/;
  const FIELD = /^[a-z0-9][a-z0-9_-]{0,39}$/;
  let network = { branches: [], services: [] };
  let catalogue = { departments: [], document_kinds: [], procedures: [] };
  let users = [];
  let devices = [];
  let tab = "branches";
  let counterBranch = null;
  let live = null;

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name in node && typeof value !== "string") node[name] = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function input(name, value, attrs) {
    return el("input", Object.assign({ name: name, value: value === undefined || value === null ? "" : String(value) }, attrs));
  }

  // An input in a table row named for its column and its row ("Tên tiếng Việt của dịch vụ Hộ tịch"):
  // a row of unlabelled inputs is a row of blanks to a screen reader.
  function cellName(fieldKey, row) {
    return { "aria-label": t("admin.cell", { field: t(fieldKey), row: row }) };
  }

  function button(key, cls, onClick) {
    const node = el("button", { type: "button", class: cls || "", text: t(key) });
    node.addEventListener("click", onClick);
    return node;
  }

  function select(name, options, chosen, cls) {
    const node = el("select", { name: name, class: cls || "" });
    for (const [value, label] of options) node.append(el("option", { value: value, text: label }));
    node.value = chosen === null || chosen === undefined ? "" : chosen;
    return node;
  }

  function serviceName(id) {
    const service = network.services.find((s) => s.id === id);
    return service ? `${service.letter} · ${service.name[Staff.lang()]}` : id;
  }

  function branchName(id) {
    const branch = network.branches.find((b) => b.id === id);
    return branch ? branch.name[Staff.lang()] : id;
  }

  function checks(name, chosen, options) {
    const box = el("div", { class: "checks" });
    for (const [value, label] of options || network.services.map((s) => [s.id, serviceName(s.id)])) {
      const box_ = el("input", { type: "checkbox", name: name, value: value });
      box_.checked = chosen.includes(value);
      box.append(el("label", { class: "check" }, [box_, el("span", { text: label })]));
    }
    return box;
  }

  function departmentName(code) {
    const department = catalogue.departments.find((d) => d.code === code);
    return department ? department.name[Staff.lang()] : code;
  }

  // What a person types to find a procedure: letters without their accents, any case.
  function folded(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  // The named inputs left empty, found through field(name).
  function empty(field, ...names) {
    return names.map(field).filter((node) => !node.value.trim());
  }

  function checked(root, name) {
    return Array.from(root.querySelectorAll(`input[name="${name}"]:checked`)).map((b) => b.value);
  }

  // The message is the page's live region: each result is said there; an input it is about is marked
  // invalid and described by it until the next message.
  function say(text, kind, fields) {
    document.querySelectorAll('[aria-describedby="message"]').forEach((node) => {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    });
    for (const node of fields || []) {
      node.setAttribute("aria-invalid", "true");
      node.setAttribute("aria-describedby", "message");
    }
    const box = $("message");
    box.textContent = text;
    box.className = "message " + kind;
    box.hidden = !text;
  }

  function refusal(result) {
    const error = result && result.body && result.body.error;
    const key = error ? "admin.error." + error.code : "";
    const text = key ? t(key) : key;
    return key && text !== key ? text : Staff.errorText(result);
  }

  // A change: sent, and on success the network read again and the result said in words.
  async function change(method, path, body, doneKey, params) {
    const result = await Staff.api(method, path, body);
    if (result.status >= 200 && result.status < 300) {
      await refresh();
      say(t(doneKey, params), "ok");
      return result.body;
    }
    say(refusal(result), "bad");
    return null;
  }

  // Refused here before sending: said, and the inputs it is about marked (the first one focused).
  function wrong(key, ...fields) {
    say(t(key), "bad", fields);
    if (fields.length) fields[0].focus();
    return false;
  }

  // ---- reading -------------------------------------------------------------------------------

  async function refresh() {
    const answers = await Promise.all([
      Staff.api("GET", "/admin/network"), Staff.api("GET", "/admin/users"), Staff.api("GET", "/admin/devices"),
      Staff.api("GET", "/admin/catalogue")]);
    const [net, people, kit, book] = answers;
    if (answers.some((r) => r.status !== 200)) {
      say(refusal(answers.find((r) => r.status !== 200)), "bad");
      return;
    }
    network = net.body;
    catalogue = book.body;
    users = people.body;
    devices = kit.body;
    if (!counterBranch || !network.branches.some((b) => b.id === counterBranch)) counterBranch = network.branches[0].id;
    render();
  }

  function render() {
    renderBranches();
    renderServices();
    renderCounters();
    renderUsers();
    renderDevices();
    renderDepartments();
    renderProcedures();
    renderKinds();
    document.querySelectorAll("form select.departments").forEach((s) => fillDepartments(s, s.value));
    $("procedure-documents").replaceChildren(...checks("document", checked($("procedure-form"), "document"),
      catalogue.document_kinds.map((k) => [k.kind, k.name[Staff.lang()]])).childNodes);
    $("procedure-services").replaceChildren(...checks("service", checked($("procedure-form"), "service")).childNodes);
    const first = network.branches.length ? network.branches[0].id : "";
    document.querySelectorAll("form select.branches").forEach((s) => fillBranches(s, s.value || first));
    document.querySelectorAll("select.roles").forEach((s) => fillOptions(s, ROLES.map((r) => [r, t("staff.role." + r)])));
    document.querySelectorAll("select.kinds").forEach((s) => fillOptions(s, KINDS.map((k) => [k, t("admin.kind." + k)])));
    $("new-counter-services").replaceChildren(...checks("new-service", checked($("new-counter"), "new-service")).childNodes);
    Staff.translate();
  }

  function fillOptions(node, options) {
    const chosen = node.value;
    node.replaceChildren(...options.map(([value, label]) => el("option", { value: value, text: label })));
    if (options.some(([value]) => value === chosen)) node.value = chosen;
  }

  function fillDepartments(node, chosen) {
    fillOptions(node, [["", t("admin.no_branch")], ...catalogue.departments.map((d) => [d.code, `${d.code} · ${d.name[Staff.lang()]}`])]);
    node.value = chosen || "";
  }

  function fillBranches(node, chosen) {
    fillOptions(node, [["", t("admin.no_branch")], ...network.branches.map((b) => [b.id, `${b.id} · ${b.name[Staff.lang()]}`])]);
    node.value = chosen || "";
  }

  // ---- branches ------------------------------------------------------------------------------

  function renderBranches() {
    $("branches").replaceChildren(...network.branches.map((branch) => {
      const row = el("tr", { "data-branch": branch.id });
      const of = t("admin.row.branch", { name: branch.name[Staff.lang()] });
      const named = (key, attrs) => Object.assign(cellName(key, of), attrs);
      const offered = el("td", { class: "offered" }, [checks("offered", branch.services)]);
      offered.firstChild.setAttribute("role", "group");
      offered.firstChild.setAttribute("aria-label", t("admin.cell", { field: t("admin.field.offered"), row: of }));
      const closed = el("input", named("admin.field.closed", { type: "checkbox", name: "closed" }));
      closed.checked = branch.closed;
      row.append(
        el("td", { class: "id", text: branch.id }),
        el("td", {}, [input("name_vi", branch.name.vi, named("admin.field.name_vi", { class: "wide" }))]),
        el("td", {}, [input("name_en", branch.name.en, named("admin.field.name_en", { class: "wide" }))]),
        // Text, not type=time: a browser shows that as 12-hour "07:30 AM" in some locales.
        el("td", {}, [input("open", branch.open, named("admin.field.open", { class: "time", maxlength: "5", inputmode: "numeric", placeholder: "07:30" }))]),
        el("td", {}, [input("close", branch.close, named("admin.field.close", { class: "time", maxlength: "5", inputmode: "numeric", placeholder: "17:00" }))]),
        offered,
        el("td", { class: branch.closed ? "closed-cell bad" : "closed-cell" }, [closed]),
        el("td", { class: "actions" }, [button("admin.save", "primary", () => saveBranch(branch, row))]));
      return row;
    }));
  }

  function saveBranch(branch, row) {
    const field = (name) => row.querySelector(`[name="${name}"]`);
    const value = (name) => field(name).value.trim();
    if (!value("name_vi") || !value("name_en")) return wrong("admin.check.name_needed", ...empty(field, "name_vi", "name_en"));
    if (!HHMM.test(value("open")) || !HHMM.test(value("close"))) {
      return wrong("admin.check.hours", ...["open", "close"].filter((n) => !HHMM.test(value(n))).map(field));
    }
    if (value("open") >= value("close")) return wrong("admin.error.bad_hours", field("open"), field("close"));
    return change("PATCH", `/admin/branches/${encodeURIComponent(branch.id)}`,
                  { name: { vi: value("name_vi"), en: value("name_en") }, open: value("open"), close: value("close"),
                    services: checked(row, "offered"), closed: row.querySelector('[name="closed"]').checked },
                  "admin.done.branch", { branch: branch.id });
  }

  async function addBranch(event) {
    event.preventDefault();
    const form = $("new-branch");
    const field = (name) => form.elements[name];
    const value = (name) => field(name).value.trim();
    const lat = Number(value("lat").replace(",", "."));
    const lon = Number(value("lon").replace(",", "."));
    if (!CODE.test(value("id"))) return wrong("admin.error.bad_id", field("id"));
    if (!value("name_vi") || !value("name_en")) return wrong("admin.check.name_needed", ...empty(field, "name_vi", "name_en"));
    if (!value("lat") || !value("lon") || !(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) {
      return wrong("admin.error.bad_location", field("lat"), field("lon"));
    }
    if (!HHMM.test(value("open")) || !HHMM.test(value("close"))) {
      return wrong("admin.check.hours", ...["open", "close"].filter((n) => !HHMM.test(value(n))).map(field));
    }
    if (value("open") >= value("close")) return wrong("admin.error.bad_hours", field("open"), field("close"));
    const added = await change("POST", "/admin/branches", {
      id: value("id"), name: { vi: value("name_vi"), en: value("name_en") },
      address: { vi: value("address_vi"), en: value("address_en") }, location: { lat: lat, lon: lon },
      open: value("open"), close: value("close"), unit_code: value("unit_code") }, "admin.done.branch_added",
      { branch: value("id") });
    if (added) form.reset();
    return added;
  }

  // ---- services ------------------------------------------------------------------------------

  function renderServices() {
    $("services").replaceChildren(...network.services.map((service) => {
      const row = el("tr", { "data-service": service.id });
      const of = t("admin.row.service", { name: service.name[Staff.lang()] });
      const named = (key, attrs) => Object.assign(cellName(key, of), attrs);
      row.append(
        el("td", { class: "id", text: service.id }),
        el("td", {}, [input("letter", service.letter, named("admin.field.letter", { class: "tiny", maxlength: "2" }))]),
        el("td", {}, [input("name_vi", service.name.vi, named("admin.field.name_vi"))]),
        el("td", {}, [input("name_en", service.name.en, named("admin.field.name_en"))]),
        el("td", {}, [input("description_vi", service.description.vi, named("admin.field.description_vi", { class: "wide" }))]),
        el("td", {}, [input("description_en", service.description.en, named("admin.field.description_en", { class: "wide" }))]),
        el("td", {}, [input("mean_min", service.mean_min, named("admin.field.mean_min", { type: "number", min: "0.5", max: "240", step: "0.5", class: "tiny" }))]),
        el("td", { class: "actions" }, [button("admin.save", "primary", () => saveService(service, row))]));
      return row;
    }));
  }

  function serviceFields(root) {
    const field = (name) => root.querySelector(`[name="${name}"]`);
    const value = (name) => field(name).value.trim();
    const fields = {
      letter: value("letter").toUpperCase(), mean_min: Number(value("mean_min")),
      name: { vi: value("name_vi"), en: value("name_en") },
      description: { vi: value("description_vi"), en: value("description_en") },
    };
    if (!fields.name.vi || !fields.name.en) return wrong("admin.check.name_needed", ...empty(field, "name_vi", "name_en"));
    if (!LETTER.test(fields.letter)) return wrong("admin.error.bad_letter", field("letter"));
    if (!value("mean_min") || !(fields.mean_min >= 0.5 && fields.mean_min <= 240)) return wrong("admin.error.bad_mean", field("mean_min"));
    return fields;
  }

  function saveService(service, row) {
    const fields = serviceFields(row);
    if (!fields) return null;
    return change("PATCH", `/admin/services/${encodeURIComponent(service.id)}`, fields, "admin.done.service",
                  { service: fields.name[Staff.lang()] });
  }

  async function addService(event) {
    event.preventDefault();
    const form = $("new-service");
    const id = form.elements.id.value.trim();
    if (!SERVICE_ID.test(id)) return wrong("admin.error.bad_id", form.elements.id);
    const fields = serviceFields(form);
    if (!fields) return null;
    const added = await change("POST", "/admin/services", Object.assign({ id: id }, fields), "admin.done.service_added",
                               { service: fields.name[Staff.lang()] });
    if (added) { form.reset(); form.elements.mean_min.value = "10"; }
    return added;
  }

  // ---- counters ------------------------------------------------------------------------------

  function renderCounters() {
    const pick = $("counter-branch");
    fillOptions(pick, network.branches.map((b) => [b.id, `${b.id} · ${b.name[Staff.lang()]}`]));
    pick.value = counterBranch;
    const branch = network.branches.find((b) => b.id === counterBranch);
    if (!branch) return;
    $("counters").replaceChildren(...branch.counters.map((counter) => {
      const row = el("tr", { "data-counter": counter.id });
      const of = t("admin.row.counter", { name: counter.id });
      const services = checks("services", counter.services);
      services.setAttribute("role", "group");
      services.setAttribute("aria-label", t("admin.cell", { field: t("admin.field.services"), row: of }));
      const open = el("input", Object.assign(cellName("admin.field.is_open", of), { type: "checkbox", name: "open" }));
      open.checked = counter.open;
      row.append(
        el("td", { class: "id big", text: counter.id }),
        el("td", {}, [services]),
        el("td", {}, [el("label", { class: "check" }, [open, el("span", { text: t("admin.field.is_open") })])]),
        el("td", { class: "serving", text: counter.serving || "—" }),
        el("td", { class: "actions" }, [
          button("admin.save", "primary", () => saveCounter(branch, counter, row)),
          button("admin.counters.remove", "danger", () => removeCounter(branch, counter))]));
      return row;
    }));
    watch(branch.id);
  }

  function saveCounter(branch, counter, row) {
    const services = checked(row, "services");
    if (!services.length) return wrong("admin.error.no_services", ...row.querySelectorAll('[name="services"]'));
    return change("PATCH", `/admin/branches/${encodeURIComponent(branch.id)}/counters/${encodeURIComponent(counter.id)}`,
                  { services: services, open: row.querySelector('[name="open"]').checked }, "admin.done.counter",
                  { counter: counter.id });
  }

  function removeCounter(branch, counter) {
    if (!window.confirm(t("admin.counters.confirm_remove", { counter: counter.id, branch: branchName(branch.id) }))) return null;
    return change("DELETE", `/admin/branches/${encodeURIComponent(branch.id)}/counters/${encodeURIComponent(counter.id)}`,
                  undefined, "admin.done.counter_removed", { counter: counter.id });
  }

  async function addCounter(event) {
    event.preventDefault();
    const form = $("new-counter");
    const id = form.elements.id.value.trim();
    const services = checked(form, "new-service");
    if (!COUNTER_ID.test(id)) return wrong("admin.error.bad_id", form.elements.id);
    if (!services.length) return wrong("admin.error.no_services", ...form.querySelectorAll('[name="new-service"]'));
    const added = await change("POST", `/admin/branches/${encodeURIComponent(counterBranch)}/counters`,
                               { id: id, services: services }, "admin.done.counter_added", { counter: id });
    if (added) form.reset();
    return added;
  }

  // The chosen branch's staff room: who holds which ticket changes all day, and another admin's
  // changes show without a reload.
  function watch(branchId) {
    if (live && live.branch === branchId) return;
    if (live) live.socket.close();
    live = { branch: branchId, socket: Staff.socket(branchId, { staff_queue: onStaffState }) };
  }

  function onStaffState(state) {
    const branch = network.branches.find((b) => b.id === state.branch);
    if (!branch) return;
    for (const counter of state.counters) {
      const cell = document.querySelector(`#counters tr[data-counter="${CSS.escape(counter.id)}"] .serving`);
      if (cell) cell.textContent = counter.ticket ? counter.ticket.number : "—";
    }
  }

  // ---- users ---------------------------------------------------------------------------------

  function renderUsers() {
    $("users").replaceChildren(...users.map((user) => {
      const row = el("tr", { "data-user": user.username, class: user.disabled ? "disabled" : "" });
      const of = t("admin.row.user", { name: user.username });
      const named = (key, attrs) => Object.assign(cellName(key, of), attrs);
      const branch = el("select", named("admin.field.branch", { name: "branch", class: "branches" }));
      fillBranches(branch, user.branch);
      branch.disabled = user.role === "admin" || user.role === "department";  // an admin belongs to every branch
      const department = el("select", named("admin.field.department", { name: "department", class: "departments" }));
      fillDepartments(department, user.department);
      department.disabled = user.role !== "department";
      const state = el("span", { class: "pill " + (user.disabled ? "bad" : "ok"),
                                 text: t(user.disabled ? "admin.users.disabled" : "admin.users.enabled") });
      const password = input("password", "", named("admin.field.new_password", { type: "password", autocomplete: "new-password", class: "short" }));
      row.append(
        el("td", { class: "id", text: user.username }),
        el("td", {}, [roleSelect(user.role, branch, department, of)]),
        el("td", {}, [branch]),
        el("td", {}, [department]),
        el("td", {}, [state]),
        el("td", { class: "password" }, [password, button("admin.users.reset", "", () => resetPassword(user, password))]),
        el("td", { class: "actions" }, [
          button("admin.save", "primary", () => saveUser(user, row)),
          user.disabled ? button("admin.users.enable", "", () => setDisabled(user, false))
                        : button("admin.users.disable", "danger", () => setDisabled(user, true))]));
      return row;
    }));
  }

  function roleSelect(role, branch, department, of) {
    const node = select("role", ROLES.map((r) => [r, t("staff.role." + r)]), role, "roles");
    node.setAttribute("aria-label", t("admin.cell", { field: t("admin.field.role"), row: of }));
    node.addEventListener("change", () => {
      department.disabled = node.value !== "department";
      if (!department.disabled && !department.value && catalogue.departments.length) department.value = catalogue.departments[0].code;
      branch.disabled = node.value === "admin" || node.value === "department";
      if (!branch.disabled && !branch.value && network.branches.length) branch.value = network.branches[0].id;
    });
    return node;
  }

  function saveUser(user, row) {
    const body = userFields(row);
    if (!body) return null;
    return change("PATCH", `/admin/users/${encodeURIComponent(user.username)}`, body, "admin.done.user",
                  { user: user.username });
  }

  // The role and what it belongs to: an officer or manager a branch, a department user a department, an admin neither.
  function userFields(root) {
    const field = (name) => root.querySelector(`[name="${name}"]`);
    const [role, branch, department] = ["role", "branch", "department"].map((name) => field(name).value);
    if (role === "department") {
      return department ? { role: role, branch: null, department: department }
                        : wrong("admin.error.department_needed", field("department"));
    }
    if (role === "admin") return { role: role, branch: null, department: null };
    return branch ? { role: role, branch: branch, department: null } : wrong("admin.error.branch_needed", field("branch"));
  }

  function setDisabled(user, disabled) {
    if (disabled && !window.confirm(t("admin.users.confirm_disable", { user: user.username }))) return null;
    return change("PATCH", `/admin/users/${encodeURIComponent(user.username)}`, { disabled: disabled },
                  disabled ? "admin.done.user_disabled" : "admin.done.user_enabled", { user: user.username });
  }

  function resetPassword(user, field) {
    if (field.value.length < 8) return wrong("admin.error.weak_password", field);
    return change("POST", `/admin/users/${encodeURIComponent(user.username)}/password`, { password: field.value },
                  "admin.done.password", { user: user.username });
  }

  async function addUser(event) {
    event.preventDefault();
    const form = $("new-user");
    const username = form.elements.username.value.trim();
    if (!username) return wrong("admin.error.bad_username", form.elements.username);
    if (form.elements.password.value.length < 8) return wrong("admin.error.weak_password", form.elements.password);
    const fields = userFields(form);
    if (!fields) return null;
    const body = Object.assign({ username: username, password: form.elements.password.value }, fields);
    const added = await change("POST", "/admin/users", body, "admin.done.user_added", { user: body.username });
    if (added) form.reset();
    return added;
  }

  // ---- devices -------------------------------------------------------------------------------

  function renderDevices() {
    $("devices").replaceChildren(...devices.map((device) => el("tr", { "data-device": device.id }, [
      el("td", { class: "id", text: device.id }),
      el("td", { text: t("admin.kind." + device.kind) }),
      el("td", { text: `${device.branch} · ${branchName(device.branch)}` }),
      el("td", { text: device.created_at.slice(0, 16).replace("T", " ") }),
      el("td", { class: "actions" }, [button("admin.devices.revoke", "danger", () => revokeDevice(device))]),
    ])));
  }

  function revokeDevice(device) {
    if (!window.confirm(t("admin.devices.confirm_revoke", { device: device.id }))) return null;
    $("device-token").hidden = true;
    return change("DELETE", `/admin/devices/${encodeURIComponent(device.id)}`, undefined, "admin.done.device_revoked",
                  { device: device.id });
  }

  async function addDevice(event) {
    event.preventDefault();
    const form = $("new-device");
    const added = await change("POST", "/admin/devices", { kind: form.elements.kind.value, branch: form.elements.branch.value },
                               "admin.done.device_added", {});
    if (added) {
      // Shown this once: the server keeps only the token's hash.
      $("device-token").replaceChildren(el("span", { text: t("admin.devices.token", { device: added.id }) }),
                                        el("code", { id: "device-token-value", text: added.token }));
      $("device-token").dataset.device = added.id;
      $("device-token").hidden = false;
    }
    return added;
  }

  // ---- departments ---------------------------------------------------------------------------

  function renderDepartments() {
    $("departments").replaceChildren(...catalogue.departments.map((department) => {
      const row = el("tr", { "data-department": department.code });
      const of = t("admin.row.department", { name: department.name[Staff.lang()] });
      row.append(
        el("td", { class: "id", text: department.code }),
        el("td", {}, [input("name_vi", department.name.vi, Object.assign(cellName("admin.field.name_vi", of), { class: "wide" }))]),
        el("td", {}, [input("name_en", department.name.en, Object.assign(cellName("admin.field.name_en", of), { class: "wide" }))]),
        el("td", { class: "actions" }, [button("admin.save", "primary", () => saveDepartment(department, row))]));
      return row;
    }));
  }

  function saveDepartment(department, row) {
    const field = (name) => row.querySelector(`[name="${name}"]`);
    const value = (name) => field(name).value.trim();
    if (!value("name_vi") || !value("name_en")) return wrong("admin.check.name_needed", ...empty(field, "name_vi", "name_en"));
    return change("PATCH", `/admin/departments/${encodeURIComponent(department.code)}`,
                  { name: { vi: value("name_vi"), en: value("name_en") } }, "admin.done.department",
                  { department: value("name_" + Staff.lang()) });
  }

  // A new department or document kind: its code and both names checked here, then sent.
  async function addNamed(event, formId, codeName, pattern, path, doneKey, extra) {
    event.preventDefault();
    const form = $(formId);
    const field = (name) => form.elements[name];
    const value = (name) => field(name).value.trim();
    if (!pattern.test(value(codeName))) return wrong("admin.error.bad_id", field(codeName));
    if (!value("name_vi") || !value("name_en")) return wrong("admin.check.name_needed", ...empty(field, "name_vi", "name_en"));
    const body = Object.assign({ [codeName]: value(codeName), name: { vi: value("name_vi"), en: value("name_en") } },
                               extra ? extra(form) : {});
    const added = await change("POST", path, body, doneKey, { name: value("name_" + Staff.lang()) });
    if (added) form.reset();
    return added;
  }

  // ---- procedures ----------------------------------------------------------------------------

  function renderProcedures() {
    const wanted = folded($("procedure-filter").value.trim());
    const shown = catalogue.procedures.filter((p) => !wanted ||
      folded([p.code, p.name.vi, p.name.en, p.field, departmentName(p.department)].join(" ")).includes(wanted));
    $("procedure-count").textContent = t("admin.procedures.count", { shown: shown.length, all: catalogue.procedures.length });
    $("procedures").replaceChildren(...shown.map((procedure) => el("tr", {
      "data-procedure": procedure.code, class: procedure.retired ? "disabled" : "" }, [
      el("td", { class: "id", text: procedure.code }),
      el("td", { class: "name", text: procedure.name[Staff.lang()] }),
      el("td", { text: procedure.field }),
      el("td", { text: departmentName(procedure.department) }),
      el("td", { class: "number", text: String(procedure.statutory_days) }),
      el("td", { text: procedure.services.map(serviceName).join(", ") || "—" }),
      el("td", {}, [el("span", { class: "pill " + (procedure.retired ? "bad" : "ok"),
                                 text: t(procedure.retired ? "admin.procedures.retired" : "admin.procedures.current") })]),
      el("td", { class: "actions" }, [
        button("admin.procedures.edit", "", () => editProcedure(procedure)),
        procedure.retired ? button("admin.procedures.restore", "", () => retire(procedure, false))
                          : button("admin.procedures.retire", "danger", () => retire(procedure, true))]),
    ])));
  }

  function editProcedure(procedure) {
    const form = $("procedure-form");
    form.elements.code.value = procedure.code;
    form.elements.name_vi.value = procedure.name.vi;
    form.elements.name_en.value = procedure.name.en;
    form.elements.field.value = procedure.field;
    form.elements.department.value = procedure.department;
    form.elements.statutory_days.value = String(procedure.statutory_days);
    form.querySelectorAll('input[name="document"]').forEach((b) => { b.checked = procedure.documents.includes(b.value); });
    form.querySelectorAll('input[name="service"]').forEach((b) => { b.checked = procedure.services.includes(b.value); });
    form.elements.name_vi.focus();
  }

  function retire(procedure, retired) {
    return change("PATCH", `/admin/procedures/${encodeURIComponent(procedure.code)}`, { retired: retired },
                  retired ? "admin.done.procedure_retired" : "admin.done.procedure_restored", { procedure: procedure.code });
  }

  // One form adds a procedure or, its code already in the catalogue, saves the one being edited.
  async function saveProcedure(event) {
    event.preventDefault();
    const form = $("procedure-form");
    const field = (name) => form.elements[name];
    const value = (name) => field(name).value.trim();
    const days = Number(value("statutory_days"));
    if (!PROCEDURE_CODE.test(value("code"))) return wrong("admin.error.bad_id", field("code"));
    if (!value("name_vi") || !value("name_en")) return wrong("admin.check.name_needed", ...empty(field, "name_vi", "name_en"));
    if (!FIELD.test(value("field"))) return wrong("admin.error.bad_field", field("field"));
    if (!value("department")) return wrong("admin.error.department_needed", field("department"));
    if (!(Number.isInteger(days) && days >= 1 && days <= 365)) return wrong("admin.error.bad_days", field("statutory_days"));
    const fields = { name: { vi: value("name_vi"), en: value("name_en") }, field: value("field"),
                     department: value("department"), statutory_days: days,
                     documents: checked(form, "document"), services: checked(form, "service") };
    const known = catalogue.procedures.some((p) => p.code === value("code"));
    const saved = await change(known ? "PATCH" : "POST",
                               known ? `/admin/procedures/${encodeURIComponent(value("code"))}` : "/admin/procedures",
                               known ? fields : Object.assign({ code: value("code") }, fields),
                               known ? "admin.done.procedure" : "admin.done.procedure_added", { procedure: value("code") });
    if (saved) { form.reset(); form.querySelectorAll("input[type=checkbox]").forEach((b) => { b.checked = false; }); }
    return saved;
  }

  // ---- document kinds ------------------------------------------------------------------------

  function renderKinds() {
    $("kinds").replaceChildren(...catalogue.document_kinds.map((kind) => el("tr", { "data-kind": kind.kind }, [
      el("td", { class: "id", text: kind.kind }),
      el("td", { text: kind.name.vi }),
      el("td", { text: kind.name.en }),
      el("td", {}, [el("span", { class: "pill " + (kind.reusable ? "ok" : "warn"),
                                 text: t(kind.reusable ? "admin.kinds.reusable" : "admin.kinds.once") })]),
    ])));
  }

  // ---- the page ------------------------------------------------------------------------------

  function show(name) {
    if (name !== tab) say("", "");   // a result belongs to the tab whose form it answered
    tab = name;
    document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== "tab-" + name; });
    history.replaceState(null, "", "#" + name);
  }

  async function main() {
    const session = await Staff.session();
    Staff.header("admin.title", () => { document.title = `${t("admin.title")} — motcua`; say("", ""); render(); });
    document.title = `${t("admin.title")} — motcua`;
    if (session.role !== "admin") { $("not-admin").hidden = false; Staff.translate(); return; }
    $("admin").hidden = false;
    document.querySelectorAll(".tabs [data-tab]").forEach((b) => b.addEventListener("click", () => show(b.dataset.tab)));
    $("counter-branch").addEventListener("change", (event) => { counterBranch = event.target.value; renderCounters(); Staff.translate(); });
    $("new-service").addEventListener("submit", addService);
    $("new-counter").addEventListener("submit", addCounter);
    $("new-user").addEventListener("submit", addUser);
    $("new-device").addEventListener("submit", addDevice);
    $("new-branch").addEventListener("submit", addBranch);
    $("new-department").addEventListener("submit", (event) => addNamed(
      event, "new-department", "code", CODE, "/admin/departments", "admin.done.department_added"));
    $("procedure-form").addEventListener("submit", saveProcedure);
    $("new-kind").addEventListener("submit", (event) => addNamed(
      event, "new-kind", "kind", KIND, "/admin/document-kinds", "admin.done.kind_added",
      (form) => ({ reusable: form.elements.reusable.checked })));
    $("procedure-filter").addEventListener("input", () => { renderProcedures(); Staff.translate(); });
    const asked = location.hash.slice(1);
    show(TABS.includes(asked) ? asked : tab);
    await refresh();
    document.body.dataset.ready = "true";
  }

  main();
})();
