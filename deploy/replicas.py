"""N `helpdesk serve` replicas behind HAProxy on this machine, against PostgreSQL.

    make replicas N=3 PORT=8080            # or: .venv/bin/python deploy/replicas.py -n 3
    HELPDESK_DATABASE_URL=postgresql+psycopg://…  SLACK_BOT_TOKEN=…  SLACK_SIGNING_SECRET=…

Each replica is one `helpdesk serve` (web server + inbox worker) on its own port; HAProxy
balances Slack's requests over them (deploy/haproxy.cfg.in). HAProxy is installed from the
Debian packages when missing. Ctrl-C (or SIGTERM) stops the balancer, then the replicas
gracefully (each finishes what it acknowledged). The tests and bench/replicas.py use the
same `Cluster`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TEMPLATE = HERE / "haproxy.cfg.in"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_haproxy() -> str:
    """The haproxy binary, installed from the distribution's packages if missing."""
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], check=True, env=env)
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(found).exists():
        raise SystemExit("haproxy could not be installed")
    return found


def render(bind: str, ports: list[int]) -> str:
    servers = "\n".join(
        f"    server replica{number} 127.0.0.1:{port} check"
        for number, port in enumerate(ports, start=1)
    )
    return TEMPLATE.read_text().replace("{bind}", bind).replace("{servers}", servers)


def wait_healthy(url: str, alive: list[subprocess.Popen[bytes]], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in alive:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Cluster:
    """`replicas` × `helpdesk serve` on free ports (or from `first_port`), HAProxy on
    `port`. Every process runs in its own session: `kill(i)` kills a whole replica."""

    def __init__(
        self,
        replicas: int,
        *,
        port: int | None = None,
        first_port: int | None = None,
        env: dict[str, str] | None = None,
        serve_args: list[str] | None = None,
        logs: Path | None = None,
    ) -> None:
        self.count = replicas
        self.port = port or free_port()
        self.ports = [
            (first_port + number) if first_port else free_port() for number in range(replicas)
        ]
        self.env = {**os.environ, **(env or {})}
        self.serve_args = serve_args or []
        self.logs = logs or Path(tempfile.mkdtemp(prefix="helpdesk-replicas-"))
        self.replicas: list[subprocess.Popen[bytes]] = []
        self.balancer: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.ports[number]}"

    def start(self) -> Cluster:
        haproxy = ensure_haproxy()
        helpdesk = str(Path(sys.executable).parent / "helpdesk")
        for number, port in enumerate(self.ports):
            log = open(self.logs / f"replica{number + 1}.log", "wb")  # noqa: SIM115
            self.replicas.append(
                subprocess.Popen(
                    [
                        helpdesk,
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        *self.serve_args,
                    ],
                    env=self.env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for number in range(self.count):
            wait_healthy(self.replica_url(number) + "/healthz", [self.replicas[number]])
        config = self.logs / "haproxy.cfg"
        config.write_text(render(f"127.0.0.1:{self.port}", self.ports))
        log = open(self.logs / "haproxy.log", "wb")  # noqa: SIM115
        self.balancer = subprocess.Popen(
            [haproxy, "-db", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_healthy(self.url + "/healthz", [self.balancer], timeout=30)
        return self

    def kill(self, number: int, signum: int = signal.SIGKILL) -> None:
        """Kill replica `number` (its web server and its worker) at once."""
        os.killpg(self.replicas[number].pid, signum)
        self.replicas[number].wait(timeout=60)

    def stop(self) -> None:
        if self.balancer is not None and self.balancer.poll() is None:
            os.killpg(self.balancer.pid, signal.SIGTERM)
            self.balancer.wait(timeout=10)
        for process in self.replicas:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # graceful: drains what it acknowledged
        for process in self.replicas:
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080, help="the balancer's port")
    parser.add_argument("--first-port", type=int, default=3001, help="replica ports from here")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per replica")
    args = parser.parse_args()
    if not os.environ.get("HELPDESK_DATABASE_URL", "").startswith("postgresql"):
        raise SystemExit(
            "error: replicas share PostgreSQL: set HELPDESK_DATABASE_URL=postgresql+psycopg://…"
        )
    cluster = Cluster(
        args.replicas,
        port=args.port,
        first_port=args.first_port,
        serve_args=["--workers", str(args.workers)],
        logs=REPO / "data" / "replicas",
    )
    cluster.logs.mkdir(parents=True, exist_ok=True)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    cluster.start()
    print(
        f"{args.replicas} replicas on ports {', '.join(map(str, cluster.ports))} behind HAProxy: "
        f"Slack's Request URL is {cluster.url}/slack/events (logs and haproxy.cfg in {cluster.logs}); "
        "Ctrl-C to stop",
        flush=True,
    )
    try:
        while not stopping.wait(1.0):
            for number, process in enumerate(cluster.replicas):
                if process.poll() is not None:
                    print(f"replica {number + 1} exited ({process.returncode})", flush=True)
                    stopping.set()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
