// Staff sign-in: the session goes into an HttpOnly cookie; then on to the page asked for, or to
// the one the role works in.
(function () {
  "use strict";
  const HOME = { officer: "/counter", manager: "/manager", admin: "/admin" };
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const submit = document.getElementById("login-submit");

  // Only a path of this server: "//evil.example" or "/\evil" would leave it.
  function next(role) {
    const asked = new URLSearchParams(location.search).get("next") || "";
    if (/^\/(?![\/\\])/.test(asked) && !asked.startsWith("/login")) return asked;
    return HOME[role] || "/";
  }

  function show(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = document.getElementById("username").value.trim();
    const password = document.getElementById("password").value;
    if (!username || !password) { show(Staff.t("staff.login.missing")); return; }
    submit.disabled = true;
    show("");
    const result = await Staff.api("POST", "/auth/session", { username: username, password: password });
    submit.disabled = false;
    if (result.status === 200) { location.assign(next(result.body.role)); return; }
    if (result.status === 429) show(Staff.t("staff.login.throttled"));
    else if (result.status === 401) show(Staff.t("staff.login.wrong"));
    else show(Staff.errorText(result));
    document.getElementById("password").select();
  });

  document.getElementById("staff-lang").addEventListener("click", Staff.toggleLanguage);
  Staff.translate();
  document.getElementById("username").focus();
})();
