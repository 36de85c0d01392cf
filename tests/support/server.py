"""A real ``ticketing serve`` process on a free port, for tests that go over HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.settings import TEST_ENV

TICKETING = str(Path(sys.executable).with_name("ticketing"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **TEST_ENV, "TICKETING_DATABASE_URL": database_url, **(extra or {})}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def run_cli(database_url: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [TICKETING, *args], env=cli_env(database_url, env), capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"ticketing {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class ServerProcess:
    def __init__(
        self, database_url: str, workers: int = 1, env: dict[str, str] | None = None, log_path: Path | None = None
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.env = cli_env(database_url, env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        # The server holds its own copy of the log file's descriptor: ours is closed at once.
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as log:
            self.process = subprocess.Popen(
                [TICKETING, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server at {self.url} not ready in {timeout}s")

    def worker_pids(self) -> list[int]:
        """The serving processes (multiprocessing's resource tracker is a child too: left out)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [pid for pid in pids if b"spawn_main" in _cmdline(pid)]

    def kill(self) -> None:
        """SIGKILL the whole server (supervisor and workers): a crash, not a shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def run_server(database_url: str, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """Migrates, serves on a free port, yields the base URL, and stops the server."""
    server = ServerProcess(database_url, workers, env)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
