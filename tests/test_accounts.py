"""Staff accounts and device tokens (server/accounts.py): who logs in, how long a token lasts, which
branches a role covers, and that tokens are kept only as hashes."""
from __future__ import annotations

import re

import pytest
from sqlite_utils import Database

from motcua.accounts import Accounts, Principal
from motcua.core.clock import FakeClock
from motcua.core.model import Invalid, NotFound
from motcua.store import Store

from conftest import MORNING, PASSWORD, USERS

TTL_HOURS = 12.0


@pytest.fixture
def clock():
    return FakeClock(MORNING)


@pytest.fixture
def store(morning_template, tmp_path):
    """Hoan Kiem with conftest's USERS (off1, off2, mgr1, admin), hashed once per session."""
    store = Store(morning_template.copy_to(tmp_path / "motcua.db"))
    yield store
    store.close()


@pytest.fixture
def accounts(store, clock):
    return Accounts(store, clock, TTL_HOURS)


def token_of(accounts, username):
    return accounts.login(username, PASSWORD)[0]


@pytest.mark.parametrize("username, role, branch", [("off1", "officer", "hk-01"), ("mgr1", "manager", "hk-01"),
                                                    ("admin", "admin", None)])
def test_a_login_gives_a_token_that_stands_for_the_user(accounts, username, role, branch):
    token, user = accounts.login(username, PASSWORD)
    assert (user["username"], user["role"], user["branch"]) == (username, role, branch)
    assert accounts.principal(token) == Principal("staff", username, role, branch)
    assert accounts.principal(token).actor == f"staff:{username}"
    assert token_of(accounts, username) != token           # every login its own token


@pytest.mark.parametrize("username, password", [("off1", "wrong-pass"), ("nobody", PASSWORD), ("off1", ""),
                                                ("OFF1", PASSWORD)])
def test_a_wrong_login_gives_nothing(accounts, username, password):
    assert accounts.login(username, password) is None


def test_a_staff_token_expires_after_its_hours_even_once_it_was_seen(accounts, clock):
    token = token_of(accounts, "off1")
    assert accounts.principal(token) is not None             # seen, and so remembered
    clock.advance(TTL_HOURS * 3600 - 1)
    assert accounts.principal(token) is not None
    clock.advance(1)
    assert accounts.principal(token) is None
    assert accounts.principal(token_of(accounts, "off1")) is not None   # logging in again works


def test_tokens_survive_a_restart_and_still_expire(accounts, store, clock, tmp_path):
    token = token_of(accounts, "mgr1")
    device = accounts.add_device("kiosk", "hk-02")
    store.close()
    again = Store(tmp_path / "motcua.db")
    restarted = Accounts(again, clock, TTL_HOURS)
    assert restarted.principal(token).name == "mgr1" and restarted.principal(device).branch == "hk-02"
    clock.advance(TTL_HOURS * 3600)
    assert restarted.principal(token) is None and restarted.principal(device) is not None
    again.close()


@pytest.mark.parametrize("kind", ["kiosk", "display"])
def test_a_device_token_stands_for_its_branch_and_never_expires(accounts, clock, kind):
    token = accounts.add_device(kind, "hk-02")
    principal = accounts.principal(token)
    assert (principal.kind, principal.role, principal.branch) == ("device", kind, "hk-02")
    assert not principal.is_staff() and principal.covers("hk-02") and not principal.covers("hk-01")
    clock.advance(365 * 86400)
    assert accounts.principal(token) == principal
    assert accounts.add_device(kind, "hk-02") != token


@pytest.mark.parametrize("token", ["", "bogus", "stf_", "dev_" + "x" * 32])
def test_an_unknown_token_stands_for_nobody(accounts, token):
    assert accounts.principal(token) is None


def test_adding_a_user_again_replaces_the_password_and_role(accounts):
    accounts.add_user("off1", "another-pass", "manager", "hk-02")
    assert accounts.login("off1", PASSWORD) is None
    token, user = accounts.login("off1", "another-pass")
    assert (user["role"], user["branch"]) == ("manager", "hk-02")
    assert accounts.principal(token) == Principal("staff", "off1", "manager", "hk-02")


@pytest.mark.parametrize("args, error", [
    (("x1", PASSWORD, "janitor", "hk-01"), Invalid),       # no such role
    (("x1", PASSWORD, "officer", None), Invalid),          # an officer belongs to a branch
    (("x1", PASSWORD, "manager", ""), Invalid),
    (("x1", "short", "officer", "hk-01"), Invalid),        # passwords of at least 8 characters
    (("", PASSWORD, "officer", "hk-01"), Invalid),
    (("x1", PASSWORD, "officer", "hk-99"), NotFound),      # an unknown branch
])
def test_bad_users_are_refused(accounts, args, error):
    with pytest.raises(error):
        accounts.add_user(*args)
    assert accounts.login(args[0], args[1]) is None


@pytest.mark.parametrize("kind, branch, error", [("printer", "hk-01", Invalid), ("kiosk", "hk-99", NotFound)])
def test_bad_devices_are_refused(accounts, kind, branch, error):
    with pytest.raises(error):
        accounts.add_device(kind, branch)


@pytest.mark.parametrize("principal, branch, covers, staff_at_least", [
    (Principal("staff", "o", "officer", "hk-01"), "hk-01", True, {"officer"}),
    (Principal("staff", "o", "officer", "hk-01"), "hk-02", False, {"officer"}),
    (Principal("staff", "m", "manager", "hk-01"), "hk-01", True, {"officer", "manager"}),
    (Principal("staff", "m", "manager", "hk-01"), "hk-02", False, {"officer", "manager"}),
    (Principal("staff", "a", "admin", None), "hk-02", True, {"officer", "manager", "admin"}),
    (Principal("device", "d", "kiosk", "hk-01"), "hk-01", True, set()),
    (Principal("device", "d", "display", "hk-01"), "hk-03", False, set()),
])
def test_roles_and_branches_cover(principal, branch, covers, staff_at_least):
    assert principal.covers(branch) is covers
    assert {role for role in ("officer", "manager", "admin") if principal.is_staff(role)} == staff_at_least


def test_tokens_and_passwords_are_stored_only_as_hashes(accounts, store, tmp_path):
    secrets = [token_of(accounts, "off1"), accounts.add_device("kiosk", "hk-01"), PASSWORD]
    db = Database(tmp_path / "motcua.db")
    stored = [str(value) for table in ("users", "tokens", "devices") for row in db[table].rows
              for value in row.values()]
    db.close()
    assert stored and not [value for value in stored for secret in secrets if secret in value]


@pytest.mark.parametrize("change", [
    lambda a: a.add_user("off1", PASSWORD, "officer", "hk-01"),          # re-added as it was
    lambda a: a.add_user("off1", PASSWORD, "manager", "hk-02"),          # re-added with other rights
    lambda a: a.set_password("off1", "a-new-password"),
    lambda a: a.remove_user("off1"),
], ids=["re-added", "new rights", "new password", "removed"])
def test_changing_or_removing_a_user_ends_its_tokens_even_once_seen(accounts, change):
    token, other = token_of(accounts, "off1"), token_of(accounts, "off2")
    assert accounts.principal(token).name == "off1"                     # seen, and so remembered
    change(accounts)
    assert accounts.principal(token) is None
    assert accounts.principal(other).name == "off2"                     # nobody else's


def test_a_new_password_is_the_one_that_logs_in(accounts):
    accounts.set_password("off1", "a-new-password")
    assert accounts.login("off1", PASSWORD) is None and accounts.login("off1", "a-new-password") is not None


def test_a_revoked_device_stops_at_once_and_leaves_the_list(accounts, clock):
    kept, revoked = accounts.add_device("kiosk", "hk-01"), accounts.add_device("display", "hk-02")
    gone = accounts.principal(revoked).name
    assert {(d["id"], d["kind"], d["branch"]) for d in accounts.devices()} >= {(gone, "display", "hk-02")}
    accounts.revoke_device(gone)
    assert accounts.principal(revoked) is None and accounts.principal(kept) is not None
    assert gone not in {d["id"] for d in accounts.devices()}


def test_logging_out_ends_that_token_only(accounts):
    first, second = token_of(accounts, "mgr1"), token_of(accounts, "mgr1")
    assert accounts.principal(first) and accounts.logout(first)
    assert accounts.principal(first) is None and accounts.principal(second).name == "mgr1"
    assert not accounts.logout(first)


def test_a_revocation_by_another_process_reaches_a_cache_at_once(accounts, clock, tmp_path):
    """The command line opens the database on its own while the server keeps its cache."""
    token, device = token_of(accounts, "off1"), accounts.add_device("kiosk", "hk-01")
    assert accounts.principal(token) and accounts.principal(device)
    other = Store(tmp_path / "motcua.db")
    command_line = Accounts(other, clock, TTL_HOURS)
    command_line.remove_user("off1")
    assert accounts.principal(token) is None and accounts.principal(device) is not None
    command_line.revoke_device(accounts.principal(device).name)
    other.close()
    assert accounts.principal(device) is None


def test_users_are_listed_without_their_hashes(accounts):
    assert accounts.users() == sorted(
        [{"username": u, "role": r, "branch": b, "department": None, "disabled": False}
         for u, (r, b) in USERS.items()],
        key=lambda u: u["username"])


@pytest.mark.parametrize("change", [lambda a: a.remove_user("nobody"), lambda a: a.set_password("nobody", PASSWORD),
                                    lambda a: a.revoke_device("nothing")])
def test_changing_what_is_not_there_is_not_found(accounts, change):
    with pytest.raises(NotFound):
        change(accounts)


@pytest.mark.parametrize("password", ["12345678", "password", "PassWord", " password ", "Password1!", "matkhau123",
                                      " " * 8, "\t" * 8, "zzzzzzzzzz", "qwertyuiop"])
def test_common_blank_and_one_letter_passwords_are_refused(accounts, password):
    with pytest.raises(Invalid, match="choose another"):
        accounts.add_user("x1", password, "officer", "hk-01")
    with pytest.raises(Invalid, match="choose another"):
        accounts.set_password("off1", password)
    assert accounts.login("x1", password) is None and accounts.login("off1", password) is None


@pytest.mark.parametrize("password", ["s3cret-pass", "correct horse battery", "Mật khẩu dài 2026", "password-of-lan"])
def test_uncommon_passwords_are_taken(accounts, password):
    accounts.add_user("x1", password, "officer", "hk-01")
    assert accounts.login("x1", password) is not None


@pytest.mark.parametrize("username, said", [
    ("", "only spaces"), (" ", "only spaces"), ("\u3000", "only spaces"),
    ("off\u202e1", "U+202E"), ("a\nb", "U+000A"), ("a\x00b", "U+0000"), ("zero\u200bwidth", "U+200B"),
    ("a\u2028b", "U+2028"), ("a\u2029b", "U+2029"), ("\u2066lan\u2069", "U+2066, U+2069"), ("a\ud800", "U+D800"),
])
def test_blank_names_and_names_with_hidden_characters_are_refused(accounts, username, said):
    with pytest.raises(Invalid, match=re.escape(said)):
        accounts.add_user(username, PASSWORD, "officer", "hk-01")
    assert username not in {user["username"] for user in accounts.users()}


@pytest.mark.parametrize("username", ["nguyễn.văn.an", "Lan 02", "cán-bộ_1"])
def test_names_in_any_script_are_taken(accounts, username):
    accounts.add_user(username, PASSWORD, "officer", "hk-01")
    assert accounts.login(username, PASSWORD)[1]["username"] == username
