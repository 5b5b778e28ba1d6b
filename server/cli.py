"""The `motcua` command: a thin shell over the library.

Only the standard library is imported at the top: `serve` and `demo` must monkey-patch with
gevent before anything else (Flask, sockets, threads) is imported.
"""
from __future__ import annotations

import argparse
import sys

SERVING_COMMANDS = ("serve", "demo")
PATCHED_COMMANDS = (*SERVING_COMMANDS, "fanout")  # gevent's patching comes before anything else is imported
PASSWORD_HELP = ("the password, for scripts (others on the machine can see a command line): by default "  # nosec B105  # help text
                 "MOTCUA_PASSWORD, else asked at the terminal")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Queue management for public service centres")
    commands = parser.add_subparsers(dest="command", required=True)

    def db_options(sub, config=True):
        sub.add_argument("--db", help="SQLite database file (default: the config's, or MOTCUA_DB)")
        if config:
            sub.add_argument("--config", help="config.toml to read")

    init = commands.add_parser("init", help="create or upgrade the database and load a scenario")
    init.add_argument("--scenario", required=True, help="scenario JSON (motcua-scenario/1)")
    db_options(init)

    serve = commands.add_parser("serve", help="run the server (HTTP + Socket.IO)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    db_options(serve)

    fanout = commands.add_parser("fanout", help="a Socket.IO process for displays, phones and staff pages, fed by "
                                                "the writer through [server] message_queue (no engine, no writes)")
    fanout.add_argument("--config", required=True, help="the writer's config.toml: its message_queue, host and port")
    fanout.add_argument("--port", type=int, required=True, help="the port this process listens on")

    user = commands.add_parser("user", help="staff accounts").add_subparsers(dest="action", required=True)
    add_user = user.add_parser("add", help="add or replace a staff account")
    add_user.add_argument("--username", required=True)
    add_user.add_argument("--password", help=PASSWORD_HELP)
    add_user.add_argument("--role", required=True, choices=("officer", "manager", "admin", "department"))
    add_user.add_argument("--branch")
    add_user.add_argument("--department", help="the competent department a department user works for "
                                               "(a code of GET /api/v1/departments)")
    db_options(add_user)
    db_options(user.add_parser("list", help="every staff account: username, role, branch"))
    remove_user = user.add_parser("remove", help="remove a staff account; its tokens end at once")
    remove_user.add_argument("--username", required=True)
    db_options(remove_user)
    passwd = user.add_parser("passwd", help="give a staff account a new password; its tokens end at once")
    passwd.add_argument("--username", required=True)
    passwd.add_argument("--password", help=PASSWORD_HELP)
    db_options(passwd)

    device = commands.add_parser("device", help="kiosks and displays").add_subparsers(dest="action", required=True)
    add_device = device.add_parser("add", help="register a device; prints its token on the last line")
    add_device.add_argument("--kind", required=True, choices=("kiosk", "display"))
    add_device.add_argument("--branch", required=True)
    db_options(add_device)
    db_options(device.add_parser("list", help="every device: id, kind, branch, registered at"))
    revoke = device.add_parser("revoke", help="forget a device; its token stops at once")
    revoke.add_argument("--id", required=True, help="the device's id, as device list shows it")
    db_options(revoke)

    display = commands.add_parser("display", help="open a branch's wall display full screen (Chromium kiosk mode)")
    display.add_argument("--branch", required=True)
    display.add_argument("--url", help="the server's base URL (default: the config's public_url, or host and port)")
    display.add_argument("--profile", help="browser profile folder (default: ~/.cache/motcua/display-BRANCH)")
    display.add_argument("--browser-arg", action="append", default=[], dest="browser_args",
                         help="one more flag for the browser (repeatable)")
    display.add_argument("--config", help="config.toml to read")

    counterd = commands.add_parser("counterd", help="bind a counter's call pad and number display to the server")
    counterd.add_argument("--server", required=True, help="the server's base URL, e.g. http://10.0.0.2:8080")
    counterd.add_argument("--branch", required=True)
    counterd.add_argument("--counter", required=True)
    counterd.add_argument("--username", required=True, help="the counter officer's account")
    counterd.add_argument("--password", help="its password (default: the MOTCUA_PASSWORD environment variable)")
    counterd.add_argument("--pad", required=True, help="pyserial URL of the call pad, e.g. /dev/ttyUSB0")
    counterd.add_argument("--display", required=True, help="pyserial URL of the number display")
    counterd.add_argument("--address", type=int, help="the devices' address on their line (default: the counter)")
    counterd.add_argument("--take-over", action="store_true",
                          help="take the counter over from another officer working it (said in the log)")

    kiosk = commands.add_parser("kiosk", help="the touchscreen kiosk (Kivy)")
    kiosk.add_argument("--config", help="config.toml with a [kiosk] section")
    kiosk.add_argument("--windowed", action="store_true", help="in a window rather than full screen")

    hw = commands.add_parser("hw", help="printers, displays and pads: checks and simulators")
    hw_commands = hw.add_subparsers(dest="action", required=True)
    from motcua.hardware import printer_cli  # no network or threads: safe before gevent's patching

    printer_cli.add_arguments(hw_commands.add_parser("test-print", help="print a sample ticket"),
                              hw_commands.add_parser("status", help="the printer's status in words"),
                              hw_commands.add_parser("printer-sim", help="a simulated printer writing each ticket as a PNG"))
    from motcua.hardware import receipt_cli  # no network or threads at import, as printer_cli

    receipt_cli.add_arguments(hw_commands.add_parser("print-receipt", help="a dossier's receipt on the ticket printer"))
    display_sim = hw_commands.add_parser("display-sim", help="a simulated counter number display")
    display_sim.add_argument("port")
    display_sim.add_argument("--address", type=int, required=True)
    pad_sim = hw_commands.add_parser("pad-sim", help="a simulated call pad: keys from the command line or stdin")
    pad_sim.add_argument("port")
    pad_sim.add_argument("--address", type=int, required=True)
    pad_sim.add_argument("keys", nargs="*", help="N next, R recall, X no-show, D done, T<letter> transfer")

    simulate = commands.add_parser("simulate", help="a city day on a virtual clock; prints a JSON summary")
    simulate.add_argument("scenario", help="scenario JSON (motcua-scenario/1)")
    simulate.add_argument("--policy", default="none", choices=("none", "balance", "realloc", "balance+realloc"))
    simulate.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    simulate.add_argument("--trace", help="write one CSV row per citizen to this file")
    simulate.add_argument("--remote-share", type=share, default=0.0,
                          help="fraction of the day's citizens who take a remote ticket before the trip (0 to 1)")
    simulate.add_argument("--appointment-share", type=share, default=0.0,
                          help="fraction of the day's citizens who book an appointment ahead (0 to 1; with "
                               "--remote-share, at most 1 in all)")

    demo = commands.add_parser("demo", help="server plus simulated kiosks and counters, on a scenario")
    demo.add_argument("--scenario", default="hoan-kiem",
                      help="a scenario JSON file, or the name of a shipped one: hoan-kiem (default, 4 branches) "
                           "or ha-noi (8 branches, the busiest with 26 services at 18 counters)")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--speed", type=float, help="how many times faster than real time citizens act")
    demo.add_argument("--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)")
    demo.add_argument("--fresh", action="store_true",
                      help="start anew: delete the demo's database, documents, key, accounts and kiosk tokens")
    db_options(demo)

    backup = commands.add_parser("backup", help="copy the database into a new file, safely while the server runs")
    backup.add_argument("file", help="the backup file to write (must not exist)")
    db_options(backup)
    restore = commands.add_parser("restore", help="put a backup in place of the database (no server may be using "
                                                  "it); the old one is kept as DB.bak")
    restore.add_argument("file", help="the backup file to restore")
    db_options(restore)
    audit = commands.add_parser("audit", help="the event log's hash chain").add_subparsers(dest="action", required=True)
    verify = audit.add_parser("verify", help="check every event's hash; exit 1 and name the first tampered event")
    db_options(verify)
    documents = commands.add_parser("documents", help="the dossiers' document files").add_subparsers(
        dest="action", required=True)
    db_options(documents.add_parser("check", help="remove files of writes that never committed, open and hash "
                                                  "every document; exit 1 while one is damaged or missing"))
    catalogue = commands.add_parser("catalogue", help="the procedure catalogue, moved between servers as JSON")
    catalogue_actions = catalogue.add_subparsers(dest="action", required=True)
    for action, about in (("export", "write the database's catalogue to FILE"),
                          ("import", "check the catalogue in FILE and put it in place of the database's, in one "
                                     "transaction: with --server, into the running server, applied at once; "
                                     "without, into a database no server holds")):
        moved = catalogue_actions.add_parser(action, help=about)
        moved.add_argument("file", help="the JSON file, in server/data/procedures.json's format")
        db_options(moved)
    importing = catalogue_actions.choices["import"]
    importing.add_argument("--server", help="the running server's base URL, e.g. http://10.0.0.2:8080")
    importing.add_argument("--username", help="an admin's account (default: the MOTCUA_TOKEN environment "
                                              "variable's admin token)")
    importing.add_argument("--password", help=PASSWORD_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PATCHED_COMMANDS:
        _patch_for_gevent(argv)
    args = build_parser().parse_args(argv)
    from motcua.config import ConfigError, load_config
    from motcua.core.model import DomainError

    try:
        # --host and --port are the server's only where it serves (hw's --port is a device).
        served = {"host": args.host, "port": args.port} if args.command in SERVING_COMMANDS else {}
        config = load_config(getattr(args, "config", None), server={"db": getattr(args, "db", None), **served})
        return COMMANDS[args.command](args, config)
    except (DomainError, ConfigError, ValueError) as error:
        print(f"motcua: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the server's own handler is in place
        print("motcua: stopped", file=sys.stderr)
        return 130


def _patch_for_gevent(argv: list[str]) -> None:
    from motcua.config import load_config

    config_path = argv[argv.index("--config") + 1] if "--config" in argv[:-1] else None
    try:
        mode = load_config(config_path).server.async_mode
    except ValueError:
        return  # main() reports the bad config file in words
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()


def cmd_init(args, config) -> int:
    from motcua.core import scenario
    from motcua.store import Store

    data = scenario.load(args.scenario)
    store = Store(config.server.db, config.server.sqlite_synchronous)
    store.load_network(scenario.services(data), scenario.branches(data), scenario.counters(data))
    print(f"{config.server.db}: {len(data['branches'])} branches, {len(data['services'])} services, "
          f"{sum(len(b['counters']) for b in data['branches'])} counters from {data.get('name', args.scenario)}")
    return 0


def cmd_fanout(args, config) -> int:
    from motcua.fanout import fanout

    fanout(config, args.port)  # a port in use or Redis unanswered: CannotServe, said in one line by main()
    return 0


def cmd_serve(args, config) -> int:
    from motcua.server_main import serve

    _require_database(config.server.db)
    serve(config)
    print("motcua: stopped", file=sys.stderr)
    return 0


def cmd_user(args, config) -> int:
    accounts = _accounts(config)
    if args.action == "list":
        for user in accounts.users():
            print(f"{user['username']}\t{user['role']}\t{user['branch'] or user['department'] or '*'}"
                  + ("\tdisabled" if user["disabled"] else ""))
    elif args.action == "remove":
        accounts.remove_user(args.username)
        print(f"user {args.username} removed; its tokens have ended")
    elif args.action == "passwd":
        accounts.set_password(args.username, _password(args))
        print(f"user {args.username}: new password; its tokens have ended")
    else:
        accounts.add_user(args.username, _password(args), args.role, args.branch, department=args.department)
        where = {"admin": "", "department": f" of department {args.department}"}.get(args.role, f" of {args.branch}")
        print(f"user {args.username}: {args.role}{where}")
    return 0


def cmd_device(args, config) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    accounts = _accounts(config)
    if args.action == "list":
        zone = ZoneInfo(config.queue.timezone)
        for device in accounts.devices():
            created = datetime.fromtimestamp(device["created_at"], zone).isoformat(" ", "seconds")
            print(f"{device['id']}\t{device['kind']}\t{device['branch']}\t{created}")
    elif args.action == "revoke":
        accounts.revoke_device(args.id)
        print(f"device {args.id} revoked; its token has stopped")
    else:
        token = accounts.add_device(args.kind, args.branch)
        print(f"{args.kind} of {args.branch} registered; its token, shown once:")
        print(token)
    return 0


def _password(args) -> str:
    """--password, else MOTCUA_PASSWORD, else asked twice at the terminal."""
    import getpass
    import os

    if args.password is not None:
        return args.password
    if os.environ.get("MOTCUA_PASSWORD"):
        return os.environ["MOTCUA_PASSWORD"]
    if not sys.stdin.isatty():
        raise ValueError("give --password, set MOTCUA_PASSWORD, or run at a terminal to be asked")
    password = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != password:
        raise ValueError("the two passwords differ")
    return password


def share(text: str) -> float:
    """A fraction from 0 to 1, as a command-line option takes it."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction from 0 to 1")
    return value


def cmd_simulate(args, config) -> int:
    import json

    from motcua.core.simulator import simulate

    if args.remote_share + args.appointment_share > 1:
        print("--remote-share and --appointment-share are shares of one day: at most 1 in all", file=sys.stderr)
        return 2
    print(json.dumps(simulate(args.scenario, args.policy, args.seed, args.trace, args.remote_share,
                              args.appointment_share), ensure_ascii=False))
    return 0


def cmd_display(args, config) -> int:
    from pathlib import Path

    from motcua.display_launcher import launch

    return launch(config, args.branch, args.url, Path(args.profile) if args.profile else None, args.browser_args)


def cmd_counterd(args, config) -> int:
    import logging
    import os

    from motcua.hardware.counterd import CounterSetup, run_counterd

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    password = args.password or os.environ.get("MOTCUA_PASSWORD")
    if not password:
        raise ValueError("give --password or set MOTCUA_PASSWORD")
    address = args.address if args.address is not None else int(args.counter) if args.counter.isdigit() else 1
    return run_counterd(CounterSetup(args.server.rstrip("/"), args.branch, args.counter, args.username, password,
                                     args.pad, args.display, address, args.take_over))


def cmd_kiosk(args, config) -> int:
    from motcua.kiosk.settings import load_kiosk_settings

    settings = load_kiosk_settings(args.config, fullscreen=False if args.windowed else None)
    try:
        import kivy  # noqa: F401  (the kiosk extra)
    except ImportError:
        raise ValueError("the kiosk needs Kivy: pip install -e '.[kiosk]'") from None
    from motcua.kiosk.app import run_kiosk  # Kivy only now: it reads its own configuration when imported

    return run_kiosk(settings)


def cmd_hw(args, config) -> int:
    if args.action == "print-receipt":
        import os

        from motcua.hardware.receipt_cli import print_receipt

        password = args.password or os.environ.get("MOTCUA_PASSWORD")
        if not password:
            raise ValueError("give --password or set MOTCUA_PASSWORD")
        return print_receipt(args.server, args.code, args.printer, username=args.username, password=password,
                             lang=args.lang, paper=args.paper, text_mode=args.text_mode, qr_mode=args.qr_mode,
                             code_page=args.code_page, timeout_s=args.timeout_s)
    if args.action in ("display-sim", "pad-sim"):
        from motcua.hardware import device_sims

        if args.action == "display-sim":
            return device_sims.display_sim(args.port, args.address)
        return device_sims.pad_sim(args.port, args.address, [k.upper() for k in args.keys])
    return args.run_printer_command(args)


def cmd_demo(args, config) -> int:
    from motcua.demo import run_demo

    run_demo(config, speed=args.speed, duration=args.duration, db=args.db, scenario_name=args.scenario,
             fresh=args.fresh)
    print("motcua: stopped", file=sys.stderr)
    return 0


def cmd_backup(args, config) -> int:
    from motcua.backup import backup

    events = backup(config.server.db, args.file)
    print(f"{config.server.db} backed up to {args.file}: {events} events")
    return 0


def cmd_restore(args, config) -> int:
    from motcua.backup import restore

    kept = restore(args.file, config.server.db)
    print(f"{args.file} restored to {config.server.db}" + (f"; the old database is kept as {kept}" if kept else ""))
    return 0


def cmd_audit(args, config) -> int:
    import sqlite3
    from contextlib import closing
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from motcua import audit
    from motcua.store import Store

    _require_database(config.server.db)
    Store(config.server.db, config.server.sqlite_synchronous).close()  # migrated: older events get chained
    with closing(sqlite3.connect(config.server.db)) as conn:
        verdict = audit.verify(conn)
    if verdict.broken is None:
        print(f"OK: {verdict.count} events, chain intact; last hash {verdict.last_hash}")
        return 0
    event = verdict.broken
    at = datetime.fromtimestamp(event["at"], ZoneInfo(config.queue.timezone)).isoformat() \
        if isinstance(event["at"], (int, float)) else event["at"]
    print(f"TAMPERED: event {event['id']} (ticket {event['ticket']}, at {at}) does not follow from the "
          f"{verdict.count} events before it: it, or the one before it, was changed, inserted or deleted")
    return 1


def cmd_documents(args, config) -> int:
    from motcua.core.clock import SystemClock
    from motcua.documents import open_documents
    from motcua.store import Store

    _require_database(config.server.db)
    documents = open_documents(config.dossiers, Store(config.server.db, config.server.sqlite_synchronous),
                               SystemClock(), sweep=False)
    if documents is None:
        raise ValueError("no document key: set [dossiers] document_key or MOTCUA_DOCUMENT_KEY")
    found = documents.check()
    if found.removed is None:
        print("a document is being written: files of killed writes are left for the next check")
    for path in found.removed or ():
        print(f"removed {path}: a write that never committed")
    for word, rows, advice in (("damaged", found.damaged, "upload the scan again"),
                               ("missing", found.missing, "restore it from a copy or upload the scan again"),
                               ("not opening with the key", found.key_mismatch,
                                "configure the key it was written with")):
        for row in rows:
            print(f"{word} {row['path']} (dossiers {row['dossiers'] or '-'}): {advice}")
    removed = len(found.removed or ())
    print(f"{len(found.intact) + len(found.damaged) + len(found.missing) + len(found.key_mismatch)} documents: "
          f"{len(found.intact)} intact, {len(found.damaged)} damaged, {len(found.missing)} missing, "
          f"{len(found.key_mismatch)} not opening with the key; {removed} orphan{'' if removed == 1 else 's'} removed")
    return 1 if found.damaged or found.missing or found.key_mismatch else 0


def cmd_catalogue(args, config) -> int:
    import json
    from contextlib import nullcontext

    from motcua.backup import alone
    from motcua.core import catalogue, procedures
    from motcua.store import Store

    if args.action == "import" and args.server:
        return _import_to_server(args)
    _require_database(config.server.db)
    # A server holding the database keeps the catalogue in memory: an import behind its back would be
    # seen only after a restart, so it is refused and sent through the server.
    held = nullcontext() if args.action == "export" else alone(
        config.server.db, "import into it with --server URL (applied at once), or stop it first")
    with held:
        store = Store(config.server.db, config.server.sqlite_synchronous)
        try:
            if args.action == "export":
                catalogue.seed(store, config.dossiers.procedures or None)
                found = catalogue.read(store)
                with open(args.file, "w", encoding="utf-8") as out:
                    json.dump(procedures.to_data(found), out, ensure_ascii=False, indent=2)
                    out.write("\n")
            else:
                found = procedures.load(args.file)
                catalogue.replace(store, found)
                _say_services_not_here(catalogue.services_not_here(found, (s.id for s in store.services())))
            print(f"{args.action}ed {len(found.procedures)} procedures of {len(found.departments)} departments")
        finally:
            store.close()
    return 0


def _import_to_server(args) -> int:
    """`catalogue import --server`: the admin route, as an admin (a login, or MOTCUA_TOKEN)."""
    import getpass
    import json
    import os

    import requests

    api = args.server.rstrip("/") + "/api/v1"
    token = None if args.username else os.environ.get("MOTCUA_TOKEN")
    if token is None:
        if not args.username:
            raise ValueError("give --username (an admin's account) or set MOTCUA_TOKEN")
        password = args.password or os.environ.get("MOTCUA_PASSWORD")
        if not password:
            if not sys.stdin.isatty():
                raise ValueError("give --password, set MOTCUA_PASSWORD, or run at a terminal to be asked")
            password = getpass.getpass(f"password for {args.username}: ")
        login = requests.post(api + "/auth/login", json={"username": args.username, "password": password}, timeout=30)
        _refused_by_server(login, "the login")
    try:
        with open(args.file, "rb") as data:
            body = data.read()
        headers = {"Authorization": f"Bearer {token or login.json()['token']}", "Content-Type": "application/json"}
        answer = requests.put(api + "/admin/catalogue", data=body, headers=headers, timeout=120)
        _refused_by_server(answer, "the catalogue")
    finally:
        if token is None:
            requests.post(api + "/auth/logout", headers={"Authorization": f"Bearer {login.json()['token']}"},
                          timeout=30)
    done = answer.json()
    _say_services_not_here(done["services_not_here"])
    print(f"imported {done['procedures']} procedures of {done['departments']} departments into {args.server}: "
          f"in use at once")
    return 0


def _refused_by_server(answer, what: str) -> None:
    """A ValueError (exit 2) giving the status and the server's error code and message, unless answer is 2xx."""
    if answer.ok:
        return
    try:
        error = answer.json()["error"]
        said = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        said = answer.text[:200]
    raise ValueError(f"the server refused {what} ({answer.status_code} {said})")


def _say_services_not_here(services: list[str]) -> None:
    if services:
        print(f"motcua: no ticket opens the procedures of {', '.join(services)} here: this server has no such "
              "service", file=sys.stderr)


def _require_database(path: str) -> None:
    """Refuse a database file that does not exist: opening it would create an empty one."""
    from pathlib import Path

    if not Path(path).is_file():
        raise ValueError(f"no database at {path}: create it first with motcua init --scenario FILE --db {path}")


def _accounts(config):
    from motcua.accounts import Accounts
    from motcua.core.clock import SystemClock
    from motcua.store import Store

    from motcua.core.catalogue import LiveCatalogue

    _require_database(config.server.db)
    store = Store(config.server.db, config.server.sqlite_synchronous)
    departments = LiveCatalogue(store, config.dossiers.procedures or None).departments
    return Accounts(store, SystemClock(), config.auth.token_ttl_hours, departments=departments)


COMMANDS = {"init": cmd_init, "serve": cmd_serve, "user": cmd_user, "device": cmd_device, "demo": cmd_demo,
            "simulate": cmd_simulate, "display": cmd_display, "counterd": cmd_counterd, "hw": cmd_hw,
            "kiosk": cmd_kiosk,
            "backup": cmd_backup, "restore": cmd_restore, "audit": cmd_audit, "documents": cmd_documents,
            "catalogue": cmd_catalogue, "fanout": cmd_fanout}

if __name__ == "__main__":
    sys.exit(main())
