"""Connections reclaimed (server/server_main.py): stalled subscribers, slow headers, caps, 503 when full.

Raw sockets against a real server whose settings make each case take a second or two.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import time
from pathlib import Path

import pytest
import requests

from conftest import Server, free_port

PING_INTERVAL_S, PING_TIMEOUT_S, HEADER_TIMEOUT_S = 1.0, 1.0, 1.0
PER_ADDRESS, TOTAL = 12, 20
# What a reclaimed connection may take beyond its deadline on a loaded machine.
SLACK_S = 4.0


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_template):
    folder = tmp_path_factory.mktemp("connections")
    settings = folder / "config.toml"
    settings.write_text(f"[server]\nping_interval_s = {PING_INTERVAL_S}\nping_timeout_s = {PING_TIMEOUT_S}\n"
                        f"header_timeout_s = {HEADER_TIMEOUT_S}\nmax_connections_per_address = {PER_ADDRESS}\n"
                        f"max_connections = {TOTAL}\n")
    srv = Server(real_template.copy_to(folder / "motcua.db"), free_port(), folder / "server.log",
                 tokens=dict(real_template.tokens), args=("--config", str(settings)))
    srv.start()
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
        other = connect(server, "127.0.0.3")
        other.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until(other, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
        other.close()
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
