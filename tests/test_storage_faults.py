"""Faults of the disk under a real server: writes answer 503 with a JSON error and change nothing,
reads go on, and the next write after the fault clears succeeds with no restart."""
from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import Server, free_port


def start(log: Path, db_folder: Path, real_template) -> Server:
    """A server whose database lives in db_folder and whose log does not (a full disk keeps its log)."""
    server = Server(real_template.copy_to(db_folder / "motcua.db"), free_port(), log,
                    tokens=dict(real_template.tokens))
    server.start()
    return server


def issue(server: Server):
    return server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})


def stored_numbers(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("select number from tickets order by rowid")]


def refused_then_resumed(server: Server, fault, clear) -> None:
    """A ticket, then the fault: writes 503 with nothing stored and memory unchanged; cleared: the next number."""
    kept = stored_numbers(server.db)
    first = issue(server)
    assert first.status_code == 201, first.text
    before = server.get("/branches/hk-01/state").json()
    fault()
    try:
        for _ in range(3):
            refused = issue(server)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "storage_unavailable"
        # Reads keep working and show what they showed: the engine's memory is untouched.
        state = server.get("/branches/hk-01/state")
        assert state.status_code == 200 and state.json() == before
    finally:
        clear()
    resumed = issue(server)
    assert resumed.status_code == 201, resumed.text
    # No number was used up by the refused writes, and nothing half-written is in the file.
    assert int(resumed.json()["number"][1:]) == int(first.json()["number"][1:]) + 1
    assert stored_numbers(server.db) == kept + [first.json()["number"], resumed.json()["number"]]


def test_writes_past_the_file_size_limit_answer_503_and_resume(tmp_path, real_template):
    """RLIMIT_FSIZE set on the running server makes its writes fail (EFBIG), for any user, root included."""
    # The log goes to /dev/null: the limit would stop a log file's writes as well.
    server = start(Path(os.devnull), tmp_path, real_template)
    pid = server.proc.pid
    limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    try:
        refused_then_resumed(server, lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (1024, limits[1])),
                             lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, limits))
    finally:
        server.kill(signal.SIGTERM)


def test_an_immutable_database_answers_503_and_resumes(tmp_path, real_template):
    """chattr +i stops even root's writes on files already open (chmod does not)."""
    server = start(tmp_path / "server.log", tmp_path, real_template)
    files = [str(path) for path in (server.db, Path(str(server.db) + "-wal")) if path.exists()]
    try:
        probe = subprocess.run(["chattr", "+i", files[0]], capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip(f"chattr +i needs CAP_LINUX_IMMUTABLE and an ext4-like filesystem: {probe.stderr.strip()}")
        subprocess.run(["chattr", "-i", files[0]], check=True)
        refused_then_resumed(server, lambda: subprocess.run(["chattr", "+i", *files], check=True),
                             lambda: subprocess.run(["chattr", "-i", *files], check=True))
    finally:
        subprocess.run(["chattr", "-i", *files], capture_output=True)
        server.kill(signal.SIGTERM)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs mounted for the test (root, with mount allowed), else the test is skipped."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs needs root and mount: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_answers_503_and_resumes(tmp_path, small_disk, real_template):
    server = start(tmp_path / "server.log", small_disk, real_template)
    filler = small_disk / "filler"

    def fault():
        with filler.open("wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:  # ENOSPC: the disk is full
                pass

    try:
        refused_then_resumed(server, fault, lambda: filler.unlink())
    finally:
        server.kill(signal.SIGTERM)
        shutil.rmtree(small_disk, ignore_errors=True)
