"""Delivery (issue 16), checked on this machine: the GitHub workflows pass actionlint and every shell script
shellcheck; deploy/deploy.sh is run over real SSH, by the deploy workflow's own step, against a local
sshd whose PATH starts with a recording stand-in for `docker` (and for `launchctl`), for a healthy deploy,
a failed health check, a rollback to the tag before and a failed migration; the Mac server's override and
launchd job have their shape, and `./dev worker` runs a job of the app against the local PostgreSQL and
Redis. What needs Docker, a Mac or GitHub is not run here (README, "Continuous delivery")."""
from __future__ import annotations

import getpass
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from .conftest import need
from .fixtures_stack import ROOT, free_port, migrate, start_web, stop, wait_until
from .test_deploy import APP_SERVICES, SERVICES, command, run_a_job

VENV_BIN = Path(sys.executable).parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
DEPLOY = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
MAC = yaml.safe_load((ROOT / "docker-compose.mac.yml").read_text())
# PyYAML reads the key `on` as the boolean True (YAML 1.1).
TRIGGERS = True


def tool(name: str) -> str:
    """A command from the virtualenv's bin or PATH; skipped locally, required under CI, when missing."""
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    need(found is not None, f"{name} (requirements-dev.txt or apt-get install {name})")
    return found


# ---------------------------------------------------------------------------------------------------------
# Lint


def test_the_workflows_pass_actionlint():
    """actionlint checks the expressions, the actions' inputs and their runner deprecations, and runs
    shellcheck on every `run:` script."""
    done = subprocess.run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *sorted(WORKFLOWS.glob("*.yml"))],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def shell_scripts() -> list[Path]:
    """Every file of the repository that is a shell script: *.sh, or a #! line naming sh or bash."""
    skipped = {".git", ".venv", "node_modules", "data", "__pycache__"}
    found = []
    for folder, folders, names in os.walk(ROOT):
        folders[:] = [name for name in folders if name not in skipped]
        for path in (Path(folder) / name for name in names):
            with open(path, "rb") as file:
                first = file.readline(200)
            if path.suffix == ".sh" or re.match(rb"#!\s*/\S*(/env\s+)?(ba)?sh\b", first):
                found.append(path)
    return sorted(found)


def test_every_shell_script_passes_shellcheck():
    scripts = shell_scripts()
    assert {ROOT / "dev", ROOT / ".ci" / "run", ROOT / "deploy" / "deploy.sh"} <= set(scripts)
    done = subprocess.run([tool("shellcheck"), *scripts], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------------------------------------------
# The workflows' shape (what actionlint cannot know)


def steps(job: dict, uses: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(uses + "@")]


def test_ci_runs_the_ci_script_with_service_containers_and_keeps_failed_results():
    assert set(CI[TRIGGERS]) == {"push", "pull_request"} and CI["env"]["CI"] == "true"
    tests, faults = CI["jobs"]["tests"], CI["jobs"]["faults"]
    assert tests["container"]["image"].endswith("-bookworm")  # Debian: its chromium package
    assert tests["services"]["postgres"]["image"] == "postgres:16" and tests["services"]["redis"]["image"] == "redis:7"
    # The tests reach the service containers by their names.
    assert "@postgres:5432/" in tests["env"]["TEST_DATABASE_URL"] and "//redis:6379" in tests["env"]["TEST_REDIS_URL"]
    runs = {name: [step["run"] for step in job["steps"] if "run" in step] for name, job in CI["jobs"].items()}
    assert 'bash .ci/run -m "not faults" --junitxml=test-results/junit.xml' in runs["tests"]
    assert any(run.startswith("bash .ci/run -m faults --junitxml=test-results/") for run in runs["faults"])
    for job in (tests, faults):
        cache, = steps(job, "actions/cache")
        assert cache["with"]["path"] == "${{ env.PIP_CACHE_DIR }}" and "requirements-dev.txt" in cache["with"]["key"]
        upload, = steps(job, "actions/upload-artifact")
        assert upload["if"] == "failure()" and upload["with"]["path"] == "test-results/"
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert './dev test -p no:cacheprovider "$@"' in ci_script and 'if [ -z "${TEST_DATABASE_URL:-}" ]' in ci_script


def test_deploy_builds_both_architectures_once_after_green_tests_on_main():
    assert DEPLOY[TRIGGERS]["workflow_run"] == {"workflows": [CI["name"]], "types": ["completed"], "branches": ["main"]}
    image, deploy = DEPLOY["jobs"]["image"], DEPLOY["jobs"]["deploy"]
    assert "conclusion == 'success'" in image["if"] and "event == 'push'" in image["if"]
    assert image["env"]["REGISTRY"] == "${{ vars.REGISTRY || 'ghcr.io' }}"
    assert steps(image, "docker/setup-qemu-action") and steps(image, "docker/setup-buildx-action")
    build, = steps(image, "docker/build-push-action")
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64" and build["with"]["push"] is True
    assert build["with"]["tags"].splitlines() == ["${{ steps.name.outputs.image }}:${{ github.event.workflow_run.head_sha }}",
                                            "${{ steps.name.outputs.image }}:latest"]
    assert deploy["needs"] == "image"


def test_the_compose_image_follows_the_deployed_tag():
    def interpolated(text: str, env: dict[str, str]) -> str:
        return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda match: env.get(match[1]) or match[2], text)

    for service in APP_SERVICES:
        written = SERVICES[service]["image"]
        assert interpolated(written, {}) == "mockup-studio:latest"
        assert interpolated(written, {"MOCKUP_IMAGE": "ghcr.io/team/mockup", "MOCKUP_TAG": "3f2c"}) == "ghcr.io/team/mockup:3f2c"


# ---------------------------------------------------------------------------------------------------------
# deploy/deploy.sh over SSH

STAND_IN_DOCKER = '''#!{python}
"""docker, as deploy/deploy.sh uses it: each call is recorded; `compose up` "starts" the tag in
MOCKUP_TAG; `compose exec -T web CMD` runs CMD here as the container would, with web's port."""
import json, os, subprocess, sys
from pathlib import Path

args = sys.argv[1:]
with open({calls!r}, "a") as calls:
    calls.write(json.dumps({{"args": args, "image": os.environ.get("MOCKUP_IMAGE"), "tag": os.environ.get("MOCKUP_TAG")}}) + "\\n")
if args[:2] == ["compose", "up"]:
    Path({running!r}).write_text(os.environ["MOCKUP_TAG"])
if args[:2] == ["compose", "run"] and Path({failing_migration!r}).exists():
    sys.exit("alembic: the migration failed")
if args[:4] == ["compose", "exec", "-T", "web"]:
    sys.exit(subprocess.run(args[4:], env={{**os.environ, "PORT": "{health_port}"}}).returncode)
'''

STAND_IN_LAUNCHCTL = '''#!/bin/sh
# launchctl of a Mac where the native worker's job is loaded: records each call.
echo "$*" >> {calls}
'''


class Health(BaseHTTPRequestHandler):
    """web's /healthz for the image tag that `compose up` started last: 503 for the broken tags."""

    def do_GET(self) -> None:
        server: HealthServer = self.server  # type: ignore[assignment]
        running = server.running.read_text() if server.running.exists() else ""
        ok = self.path == "/healthz" and running and running not in server.broken
        self.send_response(200 if ok else 503)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class HealthServer(ThreadingHTTPServer):
    def __init__(self, running: Path) -> None:
        super().__init__(("127.0.0.1", 0), Health)
        self.running = running
        self.broken: set[str] = set()


@dataclass
class Server:
    """The deploy target: a checkout of `origin`, reached over SSH; what ran there is in the call files."""
    checkout: Path
    origin: Path
    bin_dir: Path
    health: HealthServer
    calls: Path
    launchctl_calls: Path
    failing_migration: Path
    secrets: dict[str, str]
    image: str = "ghcr.io/team/mockup-studio"
    key_material: list[str] = field(default_factory=list)

    def deploy(self, tag: str) -> subprocess.CompletedProcess:
        """The deploy workflow's SSH step, run as GitHub runs it, with the secrets in its environment."""
        step, = [step for step in DEPLOY["jobs"]["deploy"]["steps"] if step["name"] == "deploy over SSH"]
        assert set(step["env"]) == {*self.secrets, "IMAGE", "TAG"}
        env = {**os.environ, **self.secrets, "IMAGE": self.image, "TAG": tag, "RUNNER_TEMP": str(self.checkout.parent)}
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=env,
                              capture_output=True, text=True, timeout=120)

    def docker_calls(self) -> list[tuple[str, ...]]:
        """Every docker call since the last look, the tag it was given first; health probes once a row."""
        lines = self.calls.read_text().splitlines() if self.calls.exists() else []
        self.calls.unlink(missing_ok=True)
        calls: list[tuple[str, ...]] = []
        for call in map(json.loads, lines):
            assert call["image"] == self.image
            row = (call["tag"], *call["args"])
            if not calls or calls[-1] != row or row[1:3] != ("compose", "exec"):
                calls.append(row)
        return calls

    def deployed_tag(self) -> str | None:
        state = self.checkout / ".deployed-tag"
        return state.read_text().strip() if state.exists() else None


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_origin(origin: Path) -> None:
    """A repository with what deploy.sh and the health check read, as the server's remote."""
    for name in ("deploy/deploy.sh", "deploy/healthcheck.py", "docker-compose.yml", "config.py"):
        (origin / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, origin / name)
    git(origin.parent, "init", "--quiet", "--initial-branch", "main", str(origin))
    identity = ("-c", "user.name=CI", "-c", "user.email=ci@example.com")
    git(origin, "add", ".")
    git(origin, *identity, "commit", "--quiet", "-m", "first release")


def new_commit(origin: Path, message: str) -> None:
    (origin / "CHANGES").write_text(message)
    git(origin, "add", "CHANGES")
    git(origin, "-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "--quiet", "-m", message)


def start_sshd(folder: Path, path: str) -> tuple[subprocess.Popen, int, str]:
    """Debian's sshd on 127.0.0.1 with its own config and host key; returns it, its port and the
    known_hosts line for it."""
    sshd = shutil.which("sshd", path=f"{os.environ['PATH']}{os.pathsep}/usr/sbin")
    need(sshd is not None, "sshd (apt-get install openssh-server)")
    tool("ssh")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True)
    port = free_port()
    (folder / "sshd_config").write_text(f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {folder / "host_key"}
PidFile {folder / "sshd.pid"}
AuthorizedKeysFile {folder / "authorized_keys"}
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
SetEnv PATH={path} DEPLOY_HEALTH_TIMEOUT_S=3
""")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder, which its service makes
    process = subprocess.Popen([sshd, "-D", "-e", "-f", str(folder / "sshd_config")], stdout=subprocess.DEVNULL,
                               stderr=open(folder / "sshd.log", "wb"), start_new_session=True)
    wait_until(lambda: b"Server listening" in (folder / "sshd.log").read_bytes(), 30, "sshd listening")
    host_key = " ".join((folder / "host_key.pub").read_text().split()[:2])
    return process, port, f"[127.0.0.1]:{port} {host_key}"


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    tool("git")
    sshd_dir, bin_dir = tmp_path / "sshd", tmp_path / "bin"
    sshd_dir.mkdir()
    bin_dir.mkdir()
    origin, checkout = tmp_path / "origin", tmp_path / "server"
    make_origin(origin)
    git(tmp_path, "clone", "--quiet", str(origin), str(checkout))
    health = HealthServer(tmp_path / "running-tag")
    threading.Thread(target=health.serve_forever, daemon=True).start()
    calls = tmp_path / "docker-calls.jsonl"
    docker = bin_dir / "docker"
    docker.write_text(STAND_IN_DOCKER.format(python=sys.executable, calls=str(calls), running=str(health.running),
                                             failing_migration=str(tmp_path / "failing-migration"),
                                             health_port=health.server_address[1]))
    docker.chmod(0o755)
    # The remote PATH: the stand-ins first, then the virtualenv's python for the health check, then the system.
    sshd, port, known_host = start_sshd(sshd_dir, f"{bin_dir}:{VENV_BIN}:/usr/bin:/bin")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "client_key")], check=True)
    shutil.copy(tmp_path / "client_key.pub", sshd_dir / "authorized_keys")
    private_key = (tmp_path / "client_key").read_text()
    secrets = {"DEPLOY_HOST": "127.0.0.1", "DEPLOY_USER": getpass.getuser(), "DEPLOY_PORT": str(port),
               "DEPLOY_PATH": str(checkout), "DEPLOY_SSH_KEY": private_key, "DEPLOY_KNOWN_HOSTS": known_host}
    try:
        yield Server(checkout, origin, bin_dir, health, calls, tmp_path / "launchctl-calls", tmp_path / "failing-migration",
                     secrets, key_material=private_key.splitlines()[1:-1])
    finally:
        stop(sshd)
        health.shutdown()
        health.server_close()


def assert_no_secret_printed(server: Server, done: subprocess.CompletedProcess) -> None:
    output = done.stdout + done.stderr
    assert not any(line in output for line in server.key_material)
    assert server.secrets["DEPLOY_KNOWN_HOSTS"].split()[-1] not in output


def deploy_steps(tag: str) -> list[tuple[str, ...]]:
    """The docker calls of a deploy of `tag` that gets healthy, in order."""
    return [(tag, "compose", "pull", "--quiet"), (tag, "compose", "run", "--rm", "migrate"),
            (tag, "compose", "up", "-d", "--no-build", "--remove-orphans"),
            (tag, "compose", "exec", "-T", "web", "python", "deploy/healthcheck.py")]


def test_a_deploy_pulls_migrates_restarts_waits_for_health_and_prunes(server):
    new_commit(server.origin, "second release")
    done = server.deploy("1111aaa")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(server.checkout, "rev-parse", "HEAD") == git(server.origin, "rev-parse", "HEAD")  # git pull
    assert server.docker_calls() == [*deploy_steps("1111aaa"), ("1111aaa", "system", "prune", "-f")]
    assert server.deployed_tag() == "1111aaa" and "deployed 1111aaa" in done.stdout
    assert not server.launchctl_calls.exists()  # no launchctl here: no native worker to restart
    assert_no_secret_printed(server, done)


def test_a_deploy_restarts_the_native_worker_of_a_mac(server):
    launchctl = server.bin_dir / "launchctl"
    launchctl.write_text(STAND_IN_LAUNCHCTL.format(calls=server.launchctl_calls))
    launchctl.chmod(0o755)
    done = server.deploy("1111aaa")
    assert done.returncode == 0, done.stdout + done.stderr
    job = f"gui/{os.getuid()}/com.mockupstudio.worker"
    assert server.launchctl_calls.read_text().splitlines() == [f"print {job}", f"kickstart -k {job}"]


def test_a_first_deploy_that_never_gets_healthy_fails_and_prunes_nothing(server):
    server.health.broken = {"1111aaa"}
    done = server.deploy("1111aaa")
    assert done.returncode == 1
    assert "no earlier tag was deployed to go back to" in done.stderr
    assert server.docker_calls() == [*deploy_steps("1111aaa"), ("1111aaa", "compose", "ps")]
    assert server.deployed_tag() is None
    assert_no_secret_printed(server, done)


def test_an_unhealthy_deploy_rolls_back_to_the_tag_before(server):
    assert server.deploy("1111aaa").returncode == 0
    server.docker_calls()
    server.health.broken = {"2222bbb"}
    done = server.deploy("2222bbb")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rolling back to 1111aaa" in done.stderr and "1111aaa runs again" in done.stderr
    assert server.docker_calls() == [
        *deploy_steps("2222bbb"), ("2222bbb", "compose", "ps"),
        ("1111aaa", "compose", "up", "-d", "--no-build", "--remove-orphans"),
        ("1111aaa", "compose", "exec", "-T", "web", "python", "deploy/healthcheck.py"),
    ]
    assert server.health.running.read_text() == "1111aaa" and server.deployed_tag() == "1111aaa"
    # When the tag before is broken too, the deploy says so with its own exit status.
    server.health.broken = {"1111aaa", "3333ccc"}
    done = server.deploy("3333ccc")
    assert done.returncode == 2 and "neither 3333ccc nor 1111aaa answers /healthz" in done.stderr


def test_a_failed_migration_leaves_the_running_version_alone(server):
    assert server.deploy("1111aaa").returncode == 0
    server.docker_calls()
    server.failing_migration.touch()
    done = server.deploy("2222bbb")
    assert done.returncode == 1 and "the migration failed" in done.stderr
    assert server.docker_calls() == deploy_steps("2222bbb")[:2]
    assert server.health.running.read_text() == "1111aaa" and server.deployed_tag() == "1111aaa"


def test_the_deploy_step_names_each_missing_secret(server):
    server.secrets["DEPLOY_KNOWN_HOSTS"] = ""
    done = server.deploy("1111aaa")
    assert done.returncode == 1 and "the repository secret DEPLOY_KNOWN_HOSTS is not set" in done.stdout
    assert not server.calls.exists()


# ---------------------------------------------------------------------------------------------------------
# The Mac server


def test_the_mac_override_leaves_the_worker_to_the_mac_and_publishes_the_servers_to_it_only():
    services = MAC["services"]
    assert services["worker"] == {"profiles": ["worker-in-docker"]}  # not started by `docker compose up`
    assert services["postgres"]["ports"] == ["127.0.0.1:5432:5432"] and services["redis"]["ports"] == ["127.0.0.1:6379:6379"]
    for service in ("migrate", "web", "beat"):
        environment, volumes = services[service]["environment"], services[service]["volumes"]
        # The containers reach the servers by the compose network's names, whatever .env says for the Mac.
        assert "@postgres:5432/mockup" in environment["DATABASE_URL"] and environment["REDIS_URL"] == "redis://redis:6379/0"
        # The Mac's folders replace docker-compose.yml's volumes (same targets), so web and worker share them.
        targets = {volume.rsplit(":", 1)[1] for volume in volumes}
        assert targets == {volume.rsplit(":", 1)[1] for volume in SERVICES[service]["volumes"]} == {"/data", "/metrics", "/backups"}
        assert (environment["DATA_DIR"], environment["METRICS_DIR"]) == ("/data", "/metrics")
    example = (ROOT / ".env.example").read_text()
    for variable in set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.mac.yml").read_text())):
        assert re.search(rf"^(# )?{variable}=", example, re.M), f".env.example does not mention {variable}"


def test_the_launchd_job_keeps_dev_worker_running():
    job = plistlib.loads((ROOT / "deploy" / "com.mockupstudio.worker.plist").read_bytes())
    assert job["Label"] == "com.mockupstudio.worker"  # the label deploy/deploy.sh restarts
    assert job["Label"] in (ROOT / "deploy" / "deploy.sh").read_text()
    assert job["ProgramArguments"] == [f"{job['WorkingDirectory']}/dev", "worker"]
    assert job["RunAtLoad"] is True and job["KeepAlive"] is True


def json_lines(log: Path) -> list[dict]:
    """The JSON log lines of a process, leaving out what ./dev prints while it sets up the virtualenv."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_dev_worker_runs_the_apps_jobs_with_the_settings_of_dotenv(tmp_path, postgres_url, redis_url):
    """`./dev worker` in a checkout whose .env points at the local PostgreSQL and Redis: a job submitted
    through the app succeeds, the worker runs compose's worker command, and the environment wins over .env."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {".env", ".git", "data"}:
            (checkout / entry.name).symlink_to(entry)
    settings = {"APP_ENV": "production", "SECRET_KEY": os.urandom(32).hex(), "DATA_DIR": str(tmp_path / "data"),
                "METRICS_DIR": str(tmp_path / "metrics"), "DATABASE_URL": postgres_url, "REDIS_URL": redis_url,
                "MOCKUP_ENGINE": "local", "GEMINI_API_KEY": "", "LOG_FORMAT": "json"}
    (checkout / ".env").write_text("# as docker compose reads it\n" + "".join(
        f'{key}="{value}"\n' if key == "SECRET_KEY" else f"{key}={value}\n" for key, value in settings.items()
    ) + "SERVICE_NAME=from-dotenv\n")
    outside = {key: value for key, value in os.environ.items() if key not in settings}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([str(checkout / "dev"), "worker"], env={**outside, "SERVICE_NAME": "gpu-worker"},
                              stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    web_env = {**outside, **settings}
    migrate(web_env)
    port = free_port()
    web = start_web(web_env, tmp_path, port)
    try:
        run_a_job(f"http://127.0.0.1:{port}", "dev-worker-1")
        cmdline = Path(f"/proc/{worker.pid}/cmdline").read_bytes().split(b"\0")[:-1]
        assert Path(cmdline[1].decode()).name == "celery" and [arg.decode() for arg in cmdline[2:]] == command("worker")[1:]
        # The worker logs the task's success just after the job row says so.
        wait_until(lambda: any(line["requestId"] == "dev-worker-1" for line in json_lines(log)), 30, "the job's log line")
        assert {line["service"] for line in json_lines(log)} == {"gpu-worker"}
    finally:
        stop(worker)
        stop(web)
