"""`motcua demo` across starts: what it keeps unless --fresh, its document key beside the database
(which `motcua serve` finds), the start page saying what is simulated, the simulated officers'
own accounts."""
from __future__ import annotations

import io
import sqlite3
import stat
import time
from contextlib import closing

import requests

from conftest import free_port
from motcua.documents import key_file
from motcua.kiosk.settings import load_kiosk_settings
from test_cli import interrupt, read_until, start
from test_dossier_pages import SHOTS

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def run(db, *options) -> tuple:
    """The demo started on db: (process, base URL, the lines it printed up to its URLs)."""
    port = free_port()
    demo = start("demo", "--port", str(port), "--speed", "300", "--db", str(db), *options)
    return demo, f"http://127.0.0.1:{port}", read_until(demo, "staff login")


def password(lines, name: str) -> str:
    [line] = [line for line in lines if f" {name} / " in line]
    return line.split(f" {name} / ")[1].split()[0]


def session(base: str, name: str, secret: str) -> requests.Response:
    return requests.post(f"{base}/api/v1/auth/session", json={"username": name, "password": secret}, timeout=10)


def stop(demo) -> str:
    try:
        return interrupt(demo)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_the_demo_keeps_what_it_made_unless_fresh_and_serve_opens_its_documents(tmp_path, chromium):
    db = tmp_path / "demo.db"
    demo, base, lines = run(db)
    try:
        assert any("motcua demo: new" in line for line in lines), lines
        # The start page says what is simulated.
        page = requests.get(base + "/", timeout=5).text
        assert 'id="demo"' in page and "nhanh gấp 300 lần" in page and "300 times faster" in page
        look_at_start_page(chromium, base)
        key = key_file(db)
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        canbo = password(lines, "canbo")
        officer = session(base, "canbo", canbo)
        assert officer.status_code == 200
        link = [line.split("/d/")[1].split()[0] for line in lines if f"{base}/d/" in line][0]
        code = link.split("?check=")[0]   # the check an official code is looked up with
        attached = requests.post(f"{base}/api/v1/dossiers/{code}/documents", cookies=officer.cookies, timeout=10,
                                 headers={"X-CSRF-Token": officer.json()["csrf"]},
                                 files={"file": ("scan.pdf", io.BytesIO(PDF), "application/pdf")},
                                 data={"kind": "id_card"})
        assert attached.status_code == 201, attached.text
        sha = attached.json()["sha256"]
        kiosk = load_kiosk_settings(str(tmp_path / "kiosk.toml")).token
        # The simulated officers serve some citizens before it stops.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not served_by(db):
            time.sleep(0.5)
    finally:
        stop(demo)
    actors = served_by(db)
    assert actors and all(actor.startswith("staff:sim-") for actor in actors), actors   # never "admin"

    # Started again: the same database, accounts, kiosk token and documents, and it says so.
    demo, base, lines = run(db)
    try:
        assert any("motcua demo: kept" in line for line in lines), lines
        assert password(lines, "canbo") == canbo and session(base, "canbo", canbo).status_code == 200
        assert load_kiosk_settings(str(tmp_path / "kiosk.toml")).token == kiosk
        assert requests.get(f"{base}/api/v1/dossiers/{link}", timeout=5).status_code == 200
    finally:
        stop(demo)

    # `motcua serve` on the demo's database finds its key: its documents open.
    port = free_port()
    server = start("serve", "--port", str(port), "--db", str(db))
    try:
        read_until(server, "motcua serving")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/api/v1/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        officer = session(base, "canbo", canbo)
        read = requests.get(f"{base}/api/v1/dossiers/{code}/documents/{sha}", cookies=officer.cookies, timeout=10)
        assert read.status_code == 200 and read.content == PDF, read.text
        assert 'id="demo"' not in requests.get(base + "/", timeout=5).text   # a server, not the demo
    finally:
        stop(server)

    # --fresh starts anew, and says so: the old passwords no longer sign in.
    demo, base, lines = run(db, "--fresh")
    try:
        assert any("motcua demo: started anew" in line for line in lines), lines
        assert session(base, "canbo", canbo).status_code == 401
    finally:
        stop(demo)


def look_at_start_page(chromium, base: str) -> None:
    """The demo's notice first on the start page, whole, inside the window, at a phone's and a laptop's size."""
    for width, height in ((390, 844), (1366, 768)):
        context = chromium.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            page.goto(base + "/")
            box = page.locator("#demo").bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"start-page-demo-{width}x{height}.png"))
        finally:
            context.close()


def served_by(db) -> set[str]:
    """Who finished the demo's tickets, by the events."""
    with closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute("select distinct actor from events where to_status = 'done'")}
