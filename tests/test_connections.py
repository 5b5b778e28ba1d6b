"""Connections reclaimed (server/server_main.py): stalled subscribers, slow headers and bodies, caps, 503 when full.

Raw sockets against a real server whose settings make each case take a second or two.
"""
from __future__ import annotations

import base64
import io
import json
import os
import socket
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from urllib3 import encode_multipart_formdata

from conftest import make_server

PING_INTERVAL_S, PING_TIMEOUT_S, HEADER_TIMEOUT_S = 1.0, 1.0, 1.0
PER_ADDRESS, TOTAL = 12, 20
# A body has a second at any pace, then at least 1,000 bytes a second on average, and 4 seconds in all.
BODY_GRACE_S, MIN_BODY_RATE, BODY_TIMEOUT_S = 1.0, 1000, 4.0
KEY = Fernet.generate_key().decode()
# What a reclaimed connection may take beyond its deadline on a loaded machine.
SLACK_S = 4.0


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_template):
    srv = make_server(tmp_path_factory.mktemp("connections"), real_template,
                      f"[server]\nping_interval_s = {PING_INTERVAL_S}\nping_timeout_s = {PING_TIMEOUT_S}\n"
                        f"header_timeout_s = {HEADER_TIMEOUT_S}\nmax_connections_per_address = {PER_ADDRESS}\n"
                        f"max_connections = {TOTAL}\nbody_grace_s = {BODY_GRACE_S}\n"
                        f"min_body_bytes_per_s = {MIN_BODY_RATE}\nbody_timeout_s = {BODY_TIMEOUT_S}\n"
                      f'[dossiers]\ndocuments = "docs"\ndocument_key = "{KEY}"\n')
    yield srv
    srv.kill()


def files_held(server, clients: list[socket.socket]) -> int:
    """How many of these clients' connections the server process still holds a file for."""
    inodes = set()
    for fd in Path(f"/proc/{server.proc.pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except FileNotFoundError:  # closed while listed
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = {sock.getsockname()[1] for sock in clients}
    held = 0
    # /proc/net/tcp: "sl local remote st ... uid timeout inode"; addresses are HEX_IP:HEX_PORT.
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        held += remote_port in ports and fields[9] in inodes
    return held


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def connect(server, source: str = "127.0.0.1") -> socket.socket:
    """A TCP connection to the server from source, one of this machine's loopback addresses."""
    sock = socket.socket()
    sock.bind((source, 0))
    # A small window: a client that stops reading soon leaves the server's writes nowhere to go.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", server.port))
    return sock


def frame(text: str) -> bytes:
    """One masked WebSocket text frame, as a client sends it."""
    payload, mask = text.encode(), os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def stalled_subscriber(server) -> socket.socket:
    """A Socket.IO client on a WebSocket, in the branch's room, that then never reads nor answers again."""
    sock = connect(server)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                 f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    # The 101 and engine.io's open packet, which may come in one segment.
    assert read_until(sock, b'"pingInterval"').startswith(b"HTTP/1.1 101")
    sock.sendall(frame("40"))
    read_until(sock, b'40{"sid"')
    sock.sendall(frame('42["subscribe",{"branch":"hk-01"}]'))
    read_until(sock, b'"queue"')
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Read what is left: True when the server's end closed, False when it is still open and silent."""
    sock.settimeout(1)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_subscribers_that_stop_reading_are_closed_after_the_ping_timeout(server):
    stalled = [stalled_subscriber(server) for _ in range(4)]
    assert files_held(server, stalled) == 4
    # Calls and queue pushes keep coming to the room while they read nothing.
    for _ in range(10):
        server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"}).raise_for_status()
    assert wait_until(lambda: files_held(server, stalled) == 0, PING_INTERVAL_S + PING_TIMEOUT_S + SLACK_S)
    assert all(closed_by_server(sock) for sock in stalled)


def test_a_client_slow_to_send_its_headers_is_cut(server):
    sock = connect(server)
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    for _ in range(int(HEADER_TIMEOUT_S * 4 + SLACK_S * 4)):
        try:
            sock.sendall(b"X-Slow: 1\r\n")  # a header every quarter second: never all of them
        except (BrokenPipeError, ConnectionResetError):
            break
        if closed_by_server_within(sock, 0.25):
            break
    assert closed_by_server(sock)
    assert time.monotonic() - started < HEADER_TIMEOUT_S + SLACK_S
    # An idle keep-alive connection is closed after as long; a prompt request is answered.
    idle = connect(server)
    idle.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_until(idle, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
    assert wait_until(lambda: closed_by_server_within(idle, 0.2), HEADER_TIMEOUT_S + SLACK_S)


def closed_by_server_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def served_from(server, source: str) -> bool:
    """Whether a new connection from source is answered 200 to a health check."""
    sock = connect(server, source)
    try:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        return read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


def busy(sock: socket.socket) -> dict:
    """The answer of a refused connection: 503 with a JSON error, then closed."""
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 503") and b"application/json" in head, answer
    return json.loads(body)


def test_connections_beyond_the_cap_of_one_address_are_answered_503(server):
    held = [connect(server, "127.0.0.2") for _ in range(PER_ADDRESS)]
    try:
        for sock in held:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
        assert busy(connect(server, "127.0.0.2"))["error"]["code"] == "server_busy"
        # Another address of this machine has a cap of its own.
        assert served_from(server, "127.0.0.3")
    finally:
        [sock.close() for sock in held]
    assert wait_until(lambda: requests.get(server.api + "/health", timeout=2).ok, SLACK_S)


def test_a_full_server_answers_503_rather_than_leaving_new_clients_hanging(server):
    held = [connect(server, f"127.0.0.{4 + i // PER_ADDRESS}") for i in range(TOTAL)]
    try:
        for sock in held:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert busy(connect(server, "127.0.0.9"))["error"]["code"] == "server_busy"
        assert time.monotonic() - started < 1
    finally:
        [sock.close() for sock in held]
    assert wait_until(lambda: requests.get(server.api + "/health", timeout=2).ok, SLACK_S)


# ---- request bodies -------------------------------------------------------------------------------

def body_started(server, source: str, length: int, path: str = "/api/v1/branches/hk-01/tickets",
                 content_type: str = "application/json", who: str = "kiosk1") -> socket.socket:
    """A request whose headers are all in, announcing a body of length bytes, none of them sent yet."""
    sock = connect(server, source)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.tokens[who]}\r\n"
                 f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n".encode())
    return sock


def send_or_closed(sock: socket.socket, data: bytes) -> bool:
    """Send data unless the server has closed the connection (True then): what it said is read first."""
    if closed_by_server_within(sock, 0.01):
        return True
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return True
    return False


def test_bodies_trickled_to_hold_connections_are_cut_and_the_kiosk_is_served_meanwhile(server):
    # The probe's attack, faster: every connection one address may hold, each sending a byte of its
    # body every quarter second (more often than any read times out), far below the least pace.
    tricklers = [body_started(server, "127.0.0.20", 1000) for _ in range(PER_ADDRESS)]
    started = time.monotonic()
    try:
        for sock in tricklers:
            sock.sendall(b"{")
        assert busy(connect(server, "127.0.0.20"))["error"]["code"] == "server_busy"
        # Meanwhile a kiosk elsewhere is served at once.
        served = server.post("/branches/hk-01/tickets", "kiosk1", {"service": "civil"})
        assert served.status_code == 201, served.text
        trickling = list(tricklers)
        while trickling and time.monotonic() - started < BODY_GRACE_S + SLACK_S:
            trickling = [sock for sock in trickling if not send_or_closed(sock, b" ")]
            time.sleep(0.25)
        assert not trickling, f"{len(trickling)} of {PER_ADDRESS} trickled bodies still open"
        assert wait_until(lambda: files_held(server, tricklers) == 0, SLACK_S)
        # The address the tricklers held is served again.
        assert served_from(server, "127.0.0.20")
    finally:
        [sock.close() for sock in tricklers]


def test_a_stalled_body_is_answered_408_in_json_after_the_grace(server):
    sock = body_started(server, "127.0.0.21", 1000)
    sock.sendall(b'{"service": ')
    started = time.monotonic()
    sock.settimeout(BODY_GRACE_S + SLACK_S)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    assert time.monotonic() - started < BODY_GRACE_S + SLACK_S
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 408") and b"application/json" in head, answer
    assert json.loads(body)["error"]["code"] == "request_timeout"


def test_a_body_at_a_fair_pace_is_cut_at_the_body_deadline(server):
    # 2,000 bytes a second, twice the least pace, of a body that would take ten seconds.
    sock = body_started(server, "127.0.0.22", 20_000)
    started = time.monotonic()
    cut = False
    while not cut and time.monotonic() - started < BODY_TIMEOUT_S + SLACK_S:
        cut = send_or_closed(sock, b" " * 200)
        time.sleep(0.1)
    assert cut and time.monotonic() - started >= BODY_TIMEOUT_S - 0.5
    sock.close()


def test_a_large_upload_at_a_modest_pace_is_not_cut(server):
    """A scan of 600 KB over two seconds: past the grace, well within the deadline, at 300 KB/s."""
    auth = server.auth("off1")
    opened = requests.post(f"{server.api}/dossiers", headers=auth, timeout=10, json={
        "procedure": "HT-KS", "citizen": {"id_number": "001090012345", "name": "Phạm Thị Dung"}})
    assert opened.status_code == 201, opened.text
    code = opened.json()["code"]
    scan = b"%PDF-1.4\n" + os.urandom(600_000) + b"\n%%EOF\n"
    body, content_type = encode_multipart_formdata({"kind": "id_card", "file": ("scan.pdf", scan, "application/pdf")})
    sock = body_started(server, "127.0.0.23", len(body), f"/api/v1/dossiers/{code}/documents", content_type, "off1")
    started = time.monotonic()
    piece = len(body) // 20 + 1
    for at in range(0, len(body), piece):
        sock.sendall(body[at:at + piece])
        time.sleep(0.1)
    assert time.monotonic() - started > BODY_GRACE_S
    head = read_until(sock, b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201"), head
    sock.close()


@pytest.mark.parametrize("kbit_per_s", [140, 256, 2_000, 100_000])
def test_the_default_pace_never_cuts_the_largest_scan_on_a_slow_link(kbit_per_s):
    """A document of max_document_mib, read as it arrives at kbit_per_s, under the default settings."""
    from motcua.config import Config
    from motcua.server_main import PacedBody

    config = Config()
    settings, size = config.server, int(config.dossiers.max_document_mib * 1024 * 1024)
    now = [0.0]
    body = PacedBody(io.BytesIO(), settings.body_grace_s, settings.min_body_bytes_per_s, settings.body_timeout_s,
                     clock=lambda: now[0])
    per_s = kbit_per_s * 1000 / 8
    while body.received < size:
        piece = min(1460, size - body.received)
        now[0] += piece / per_s
        assert body.seconds_left() > 0, f"cut at {body.received} bytes after {now[0]:.0f} s"
        body.received += piece


def test_a_trickled_body_is_late_after_the_grace_and_any_body_at_the_deadline():
    from motcua.server_main import PacedBody

    now = [0.0]
    body = PacedBody(io.BytesIO(), grace_s=10, min_bytes_per_s=1000, timeout_s=60, clock=lambda: now[0])
    assert body.seconds_left() == 10         # nothing yet: the grace
    body.received = 30_000                   # 30 s worth at the least pace
    assert body.seconds_left() == 30
    now[0] = 29.5
    assert body.seconds_left() == 0.5
    body.received = 10_000_000               # far ahead of the pace: the deadline still holds
    assert body.seconds_left() == 60 - 29.5
