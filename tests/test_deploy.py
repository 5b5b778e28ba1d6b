"""deploy/: the production shape on one machine, from its own files. Debian's redis-server and nginx, a
real `motcua serve` and three `motcua fanout` started with the commands the systemd units run, on free
ports; then, over HTTPS through nginx, what a city's clients do."""
from __future__ import annotations

import datetime
import getpass
import grp
import ipaddress
import os
import queue
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
import socketio
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

from conftest import PASSWORD, ROOT, free_port
from motcua.config import load_config
from motcua.web.document_routes import FORM_OVERHEAD

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
NGINX = "/usr/sbin/nginx"
MIB = 1024 * 1024


def exec_start(unit: str) -> list[str]:
    """The command line a systemd unit runs."""
    for line in (UNITS / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line.removeprefix("ExecStart="))
    raise AssertionError(f"{unit} has no ExecStart")


def render(path: Path, target: Path, replacements: dict[str, str]) -> Path:
    """A deploy file with its production paths and ports replaced by the test's; each must be there."""
    text = path.read_text()
    for old, new in replacements.items():
        assert old in text, f"{path.name} no longer has {old!r}"
        text = text.replace(old, new)
    target.write_text(text)
    return target


def wait_until(ready, what: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Wait for ready() while proc runs; a process that exits or never gets ready fails with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if ready():
                return
        except (OSError, requests.RequestException, redis.RedisError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start: {log.read_text()}")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key: the test's CA as well."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# Which process nginx sent each request to, by the Socket.IO route it hashed: access.log's lines.
ROUTES_LOG = "log_format motcua_routes '$motcua_route $upstream_addr $status';"


def nginx_main(folder: Path, site: Path) -> Path:
    """Debian's own nginx.conf with the site in sites-enabled's place, and the test's pid, logs, temp
    folders and user; access.log says where each request went (ROUTES_LOG); more cities' sites go in cities/."""
    temps = ""
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir()
        temps += f"\n\t{temp}_temp_path {folder / temp};"
    (folder / "cities").mkdir()
    return render(Path("/etc/nginx/nginx.conf"), folder / "nginx.conf", {
        "user www-data;": f"user {getpass.getuser()} {grp.getgrgid(os.getgid()).gr_name};",
        "pid /run/nginx.pid;": f"pid {folder / 'nginx.pid'};",
        "error_log /var/log/nginx/error.log;": "error_log stderr;",
        "access_log /var/log/nginx/access.log;": f"{ROUTES_LOG}\n\taccess_log {folder / 'access.log'} motcua_routes;",
        "include /etc/nginx/sites-enabled/*;": f"include {site};\n\tinclude {folder / 'cities'}/*.conf;{temps}"})


@dataclass
class City:
    """The running shape: the writer's port (Prometheus's way in), nginx's HTTP and HTTPS ports, the CA, and
    each fan-out process by its port."""

    writer: int
    http: int
    https: int
    ca: Path
    tokens: dict
    folder: Path
    fanout_command: list[str]
    fanouts: dict[int, subprocess.Popen]

    def start_fanout(self, port: int) -> None:
        """The unit's command for port, as motcua-fanout@PORT.service runs it, until it answers /health."""
        log = self.folder / f"fanout-{port}.log"
        proc = subprocess.Popen([part.replace("%i", str(port)) for part in self.fanout_command], cwd=self.folder,
                                stdout=log.open("a"), stderr=subprocess.STDOUT)
        self.fanouts[port] = proc
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).ok,
                   f"motcua fanout on {port}", proc, log)

    def upstreams(self, route: str) -> list[int]:
        """The ports nginx tried, in order, for each request it routed on route (a client's cookie)."""
        tried = []
        for line in (self.folder / "access.log").read_text().splitlines():
            hashed, _, rest = line.partition(" ")
            if hashed == route:
                tried.append([int(address.rsplit(":", 1)[1]) for address in rest.rsplit(" ", 1)[0].split(", ")])
        return [ports[-1] for ports in tried]

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https}"

    @property
    def at_writer(self) -> str:
        return f"http://127.0.0.1:{self.writer}/api/v1"

    def session(self, source: str = "127.0.0.1") -> requests.Session:
        """A client over HTTPS through nginx, from this loopback address."""
        session = requests.Session()
        session.trust_env = False   # REQUESTS_CA_BUNDLE and proxies of the environment would override these
        session.verify = str(self.ca)
        session.mount("https://", SourceAdapter(source))
        return session


class SourceAdapter(HTTPAdapter):
    """Connections from a chosen address of 127.0.0.0/8: distinct clients as nginx sees them."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def city(tmp_path_factory, real_template):
    folder = tmp_path_factory.mktemp("city")
    procs: list[subprocess.Popen] = []
    fanouts: dict[int, subprocess.Popen] = {}   # by port; a test's restarted one replaces its killed one
    try:
        redis_port, writer_port, http_port, https_port = (free_port() for _ in range(4))

        redis_conf = render(DEPLOY / "redis.conf", folder / "redis.conf", {"port 6379": f"port {redis_port}"})
        command = [folder / "redis.conf" if part == "/etc/motcua/redis.conf" else part
                   for part in exec_start("motcua-redis.service")]
        assert redis_conf in command
        redis_log = folder / "redis.log"
        procs.append(subprocess.Popen(command, cwd=folder, stdout=redis_log.open("a"), stderr=subprocess.STDOUT))
        client = redis.Redis(port=redis_port, socket_connect_timeout=1)
        wait_until(client.ping, "redis-server", procs[-1], redis_log)

        db = real_template.copy_to(folder / "motcua.db")
        config = render(DEPLOY / "config.toml", folder / "config.toml",
                        {"port = 8080": f"port = {writer_port}", '"/var/lib/motcua/motcua.db"': f'"{db}"',
                         "redis://127.0.0.1:6379/0": f"redis://127.0.0.1:{redis_port}/0"})
        # The `motcua` script pip installed for this Python, as /opt/motcua/venv/bin/motcua is the unit's.
        motcua = str(Path(sysconfig.get_path("scripts")) / "motcua")
        command = [{"/opt/motcua/venv/bin/motcua": motcua, "/etc/motcua/config.toml": str(config)}.get(part, part)
                   for part in exec_start("motcua.service")]
        assert command[:2] == [motcua, "serve"] and str(config) in command
        writer_log = folder / "writer.log"
        procs.append(subprocess.Popen(command, cwd=folder, stdout=writer_log.open("a"), stderr=subprocess.STDOUT))
        wait_until(lambda: requests.get(f"http://127.0.0.1:{writer_port}/api/v1/health", timeout=5).ok,
                   "motcua serve", procs[-1], writer_log)

        fanout_command = [{"/opt/motcua/venv/bin/motcua": motcua, "/etc/motcua/config.toml": str(config)}.get(part, part)
                          for part in exec_start("motcua-fanout@.service")]
        assert fanout_command[:2] == [motcua, "fanout"] and "%i" in fanout_command
        city = City(writer_port, 0, 0, Path(), dict(real_template.tokens), folder, fanout_command, fanouts)
        fanout_ports = [free_port() for _ in range(3)]
        for port in fanout_ports:
            city.start_fanout(port)

        cert, key = self_signed(folder)
        site = render(DEPLOY / "nginx" / "motcua.conf", folder / "site.conf", {
            "listen 80;": f"listen 127.0.0.1:{http_port};", "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;", "listen [::]:443 ssl http2;": "",
            "server 127.0.0.1:8080;": f"server 127.0.0.1:{writer_port};",
            **{f"server 127.0.0.1:{production};": f"server 127.0.0.1:{port};"
               for production, port in zip((8101, 8102, 8103), fanout_ports)},
            "/etc/letsencrypt/live/motcua.example.vn/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/motcua.example.vn/privkey.pem": str(key)})
        main = nginx_main(folder, site)
        command = [NGINX, "-p", str(folder), "-c", str(main), "-e", "stderr"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        nginx_log = folder / "nginx.log"
        procs.append(subprocess.Popen([*command, "-g", "daemon off;"], stdout=nginx_log.open("a"),
                                      stderr=subprocess.STDOUT))
        city.http, city.https, city.ca = http_port, https_port, cert
        wait_until(lambda: city.session().get(city.base + "/api/v1/health", timeout=5).ok, "nginx", procs[-1],
                   nginx_log)
        yield city
    finally:
        for proc in [*reversed(procs), *fanouts.values()]:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)


def test_the_start_page_and_the_api_answer_over_https_and_http_moves_to_https(city):
    client = city.session()
    page = client.get(city.base + "/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Strict-Transport-Security" in page.headers
    branches = client.get(city.base + "/api/v1/branches", timeout=10)
    assert branches.status_code == 200 and "hk-01" in branches.text
    health = client.get(city.base + "/api/v1/health", timeout=10).json()
    assert health["status"] == "ok" and "redis" in str(health["checks"])
    moved = requests.get(f"http://127.0.0.1:{city.http}/display/hk-01?x=1", allow_redirects=False, timeout=10)
    assert moved.status_code == 301 and moved.headers["Location"] == "https://127.0.0.1/display/hk-01?x=1"


# Each transport's call at a counter of its own, free for it.
@pytest.mark.parametrize(("transport", "service", "counter"), [("websocket", "build", "5"), ("polling", "land", "4")])
def test_a_display_behind_nginx_hears_a_call_made_at_the_writer(city, transport, service, counter):
    heard: queue.Queue = queue.Queue()
    display = socketio.Client(reconnection=False, http_session=city.session())
    display.on("called", heard.put)
    display.connect(city.base, transports=[transport], wait_timeout=30)
    try:
        assert display.call("subscribe", {"branch": "hk-01"}, timeout=10) == {"ok": True}
        kiosk, officer = ({"Authorization": f"Bearer {city.tokens[who]}"} for who in ("kiosk1", "off1"))
        ticket = requests.post(city.at_writer + "/branches/hk-01/tickets", json={"service": service}, headers=kiosk,
                               timeout=10).json()
        called = requests.post(city.at_writer + f"/branches/hk-01/counters/{counter}/next", headers=officer,
                               timeout=10)
        assert called.json()["ticket"]["id"] == ticket["id"]
        deadline = time.monotonic() + 10
        while True:
            payload = heard.get(timeout=max(0.01, deadline - time.monotonic()))
            if payload["number"] == ticket["number"]:
                break
        assert payload["counter"] == counter
    finally:
        display.disconnect()


def login(client: requests.Session, city: City, n: int, forged: str | None = None) -> int:
    headers = {"X-Forwarded-For": forged} if forged else {}
    return client.post(city.base + "/api/v1/auth/login", json={"username": f"nobody{n}", "password": "wrong-pass"},
                       headers=headers, timeout=10).status_code


def test_behind_nginx_sign_in_is_limited_per_client_not_for_everyone(city):
    limit = load_config(DEPLOY / "config.toml").auth.login_per_minute_per_address
    alice, bob = city.session("127.0.0.2"), city.session("127.0.0.3")
    # Alice says she is Bob: nginx appends the address it saw, and only that one counts.
    assert {login(alice, city, n, forged="127.0.0.3") for n in range(limit)} == {401}
    assert login(alice, city, limit) == 429
    assert login(bob, city, 0) == 401
    # Bob signs in for real, from his own count.
    answer = bob.post(city.base + "/api/v1/auth/login", json={"username": "off1", "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/metrics", "/api/v1//metrics", "/api/v1/%6detrics", "/api/v1/metrics?x=1"])
def test_metrics_are_refused_through_nginx_and_read_at_the_writer(city, path):
    assert city.session().get(city.base + path, timeout=10).status_code == 403
    scraped = requests.get(city.at_writer + "/metrics", timeout=10)
    assert scraped.status_code == 200 and "motcua_commit_seconds" in scraped.text


def test_a_body_past_the_largest_document_is_refused_by_nginx(city):
    largest = int(load_config(DEPLOY / "config.toml").dossiers.max_document_mib * MIB) + FORM_OVERHEAD
    client = city.session()
    headers = {"Content-Type": "application/json"}
    past = client.post(city.base + "/api/v1/auth/login", data=b" " * (largest + 1), headers=headers, timeout=30)
    assert past.status_code == 413 and past.headers["Content-Type"] == "text/html"   # nginx's own page
    # The largest document's size goes through to the writer, which answers by its own rules (JSON).
    within = client.post(city.base + "/api/v1/auth/login", data=b" " * largest, headers=headers, timeout=30)
    assert within.headers["Content-Type"] == "application/json", within.text[:200]


def held_request(city: City, source: str) -> ssl.SSLSocket:
    """A request through nginx from source with its headers in and its body not yet sent: in progress."""
    context = ssl.create_default_context(cafile=str(city.ca))
    raw = socket.create_connection(("127.0.0.1", city.https), timeout=10, source_address=(source, 0))
    sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 50\r\n\r\n")
    return sock


def status_from(city: City, source: str, status: int) -> requests.Response:
    """The start page from source, asked again for a few seconds until it answers status (nginx is
    told of held requests and of closed ones on its own time)."""
    deadline = time.monotonic() + 5
    answer = city.session(source).get(city.base + "/", timeout=10)
    while answer.status_code != status and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = city.session(source).get(city.base + "/", timeout=10)
    return answer


def test_nginx_caps_one_address_at_the_writers_connections_per_address(city):
    site = (DEPLOY / "nginx" / "motcua.conf").read_text()
    cap = int(re.search(r"limit_conn motcua_per_address (\d+);", site).group(1))
    assert cap == load_config(DEPLOY / "config.toml").server.max_connections_per_address
    held = []
    try:
        held.extend(held_request(city, "127.0.0.4") for _ in range(cap))
        refused = status_from(city, "127.0.0.4", 503)
        assert refused.status_code == 503 and refused.headers["Content-Type"] == "text/html"   # nginx's own
        assert city.session("127.0.0.5").get(city.base + "/", timeout=10).status_code == 200
    finally:
        for sock in held:
            sock.close()
    assert status_from(city, "127.0.0.4", 200).status_code == 200


def test_compose_describes_the_units_shape():
    """The compose file's structure, with PyYAML (docker compose config runs too where the plugin exists)."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"redis", "writer", "nginx"} <= set(services)
    assert all(service["network_mode"] == "host" for service in services.values())
    assert services["writer"]["command"] == exec_start("motcua.service")
    redis_server, redis_conf = exec_start("motcua-redis.service")[:2]
    assert services["redis"]["command"] == [Path(redis_server).name, redis_conf]
    # Three fan-out processes, up by default (no profile): each runs what motcua-fanout@PORT.service does, on a
    # port of nginx's upstream, beside the writer's data (the staff's sessions), and nginx waits for them.
    fanout = exec_start("motcua-fanout@.service")
    fanouts = {name: service for name, service in services.items() if name.startswith("fanout-")}
    upstream = re.search(r"upstream motcua_socketio \{(.*?)\}", (DEPLOY / "nginx" / "motcua.conf").read_text(), re.S)
    assert sorted(name.removeprefix("fanout-") for name in fanouts) == re.findall(r"server 127\.0\.0\.1:(\d+);",
                                                                                   upstream.group(1))
    assert len(fanouts) == 3
    for name, service in fanouts.items():
        assert "profiles" not in service
        assert service["command"] == [part.replace("%i", name.removeprefix("fanout-")) for part in fanout]
        assert set(service["volumes"]) == set(services["writer"]["volumes"])
        assert service["image"] == services["writer"]["image"]
    assert set(fanouts) | {"writer"} <= set(services["nginx"]["depends_on"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), volume
    build = services["writer"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        checked = subprocess.run(["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr
