"""Debian packages that the cluster (haproxy, pgbouncer), the benchmark (wrk) and the browser
tests (chromium) install when they are missing: one way to do it, one apt-get at a time.

apt-get refuses to start while another holds its lock, and the test suite runs in two worker
processes that may both reach a missing package at once: installs wait for each other on a lock
file of our own, and for anyone else's apt (unattended upgrades) up to DPkg::Lock::Timeout."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

LOCK_FILE = Path("/tmp/ticketing-apt.lock")
WAIT_FOR_OTHERS = "600"  # seconds apt-get waits for a lock held by another program


class PackageError(RuntimeError):
    """The packages could not be installed (no apt-get, or apt-get failed: not root, say)."""


def apt_install(*names: str, recommends: bool = True) -> None:
    """Installs Debian packages with apt-get; refreshes the package lists only when the first
    attempt fails (a fresh machine's lists may be missing or stale)."""
    if shutil.which("apt-get") is None:
        raise PackageError(f"{' and '.join(names)} missing and no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={WAIT_FOR_OTHERS}"]
    install = ["apt-get", *wait, "install", "-y", "-qq", *([] if recommends else ["--no-install-recommends"]), *names]
    with LOCK_FILE.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when this process dies
        if subprocess.run(install, env=env, capture_output=True, timeout=900).returncode == 0:
            return
        subprocess.run(["apt-get", *wait, "update", "-qq"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise PackageError(f"apt-get install {' '.join(names)} failed: {done.stderr.strip()[-500:]}")
