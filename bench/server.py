"""A real ``ticketing serve --workers N`` on a free port, with CPU and peak-RSS readings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TICKETING = str(Path(sys.executable).with_name("ticketing"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Server:
    def __init__(
        self, database_url: str, workers: int, env: dict[str, str], workdir: Path, log_name: str, *, migrate: bool = True,
    ) -> None:
        self.database_url = database_url
        self.migrate = migrate
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "TICKETING_DATABASE_URL": database_url}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.workdir = workdir
        self.log_path = workdir / log_name
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        with open(self.log_path, "ab") as log:  # the server keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [TICKETING, "serve", "--port", str(self.port), "--workers", str(self.workers),
                 *([] if self.migrate else ["--no-migrate"])],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= self.workers:
                        time.sleep(0.5 if self.workers > 1 else 0)
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready in {timeout}s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server's children (minus multiprocessing's
        resource tracker), or the server itself when it has none (uvicorn with one worker)."""
        assert self.process is not None
        children = [p for p in _children(self.process.pid) if "resource_tracker" not in _cmdline(p)]
        return children or [self.process.pid]

    def all_pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *_children(self.process.pid)]

    def cpu(self) -> float:
        return sum(cpu_seconds(p) for p in self.all_pids())

    def peak_rss(self) -> list[float]:
        return [peak_rss_mb(p) for p in self.worker_pids()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def postgres_cpu() -> float:
    """CPU seconds of the local PostgreSQL server: its live processes, plus what its ended
    backends used (the postmaster's reaped children)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm != "postgres":
            continue
        total += int(fields[11]) + int(fields[12])
        parent = Path(f"/proc/{fields[1]}/comm")
        try:
            is_postmaster = parent.read_text().strip() != "postgres"
        except OSError:
            is_postmaster = False
        if is_postmaster:
            total += int(fields[13]) + int(fields[14])  # cutime + cstime
    return total / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK
