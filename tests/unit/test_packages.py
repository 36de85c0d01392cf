"""ticketing/packages.py against a stand-in apt-get on PATH (a shell script that logs its calls):
installs wait for each other, the lists are refreshed only when an install fails, and a failure
says what failed."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

import pytest

from ticketing import packages

# Each call logs "start" and "end" with its arguments; with $DIR/pairs, `install` waits (up to WAIT
# seconds) for a second call to start, so two calls that may overlap do; it fails while
# $DIR/broken exists and no `update` ran.
FAKE_APT_GET = r"""#!/usr/bin/env bash
dir="$(dirname "$0")"
echo "start $*" >> "$dir/log"
touch "$dir/started.$$"
if [[ " $* " == *" install "* ]]; then
  [[ -e "$dir/pairs" ]] && for _ in $(seq 1 WAIT0); do
    (( $(ls "$dir"/started.* | wc -l) >= 2 )) && break
    sleep 0.1
  done
  if [[ -e "$dir/broken" && ! -e "$dir/updated" ]]; then
    echo "end $*" >> "$dir/log"
    echo "E: Unable to locate package $*" >&2
    exit 100
  fi
fi
[[ " $* " == *" update "* ]] && touch "$dir/updated"
echo "end $*" >> "$dir/log"
"""
WAIT = 2  # seconds: how long an install waits for a second one to start alongside it


@pytest.fixture
def apt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "apt-get"
    script.write_text(FAKE_APT_GET.replace("WAIT0", str(WAIT * 10)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setattr(packages, "LOCK_FILE", tmp_path / "apt.lock")
    return tmp_path


def _log(apt_dir: Path) -> list[str]:
    return (apt_dir / "log").read_text().splitlines()


def _calls(apt_dir: Path) -> list[str]:
    """The log as "start install one", "end update", ...: the phase, the verb, the packages."""
    calls = []
    for line in _log(apt_dir):
        phase, *args = line.split()
        verb = "install" if "install" in args else "update"
        names = [arg for arg in args[args.index(verb) + 1:] if not arg.startswith("-")]
        calls.append(" ".join([phase, verb, *names]))
    return calls


def _install_two_at_once(apt_dir: Path) -> None:
    (apt_dir / "pairs").touch()
    threads = [threading.Thread(target=packages.apt_install, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_installs_at_once_run_one_after_the_other(apt_dir: Path) -> None:
    _install_two_at_once(apt_dir)
    calls = _calls(apt_dir)
    # Each call ends before the next starts.
    assert calls in (["start install one", "end install one", "start install two", "end install two"],
                     ["start install two", "end install two", "start install one", "end install one"]), calls


def test_control_without_the_lock_two_installs_overlap(apt_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fcntl, "flock", lambda *_: None)
    _install_two_at_once(apt_dir)
    assert [call.split()[0] for call in _calls(apt_dir)] == ["start", "start", "end", "end"]


def test_the_lists_are_refreshed_only_when_an_install_fails(apt_dir: Path) -> None:
    packages.apt_install("fine", recommends=False)
    assert _calls(apt_dir) == ["start install fine", "end install fine"]
    assert "--no-install-recommends" in _log(apt_dir)[0]
    (apt_dir / "broken").touch()
    (apt_dir / "log").unlink()
    packages.apt_install("stale")
    assert _calls(apt_dir) == ["start install stale", "end install stale", "start update", "end update",
                               "start install stale", "end install stale"]


def test_an_install_that_fails_again_says_what_failed(apt_dir: Path) -> None:
    (apt_dir / "broken").touch()
    (apt_dir / "apt-get").write_text((apt_dir / "apt-get").read_text().replace('touch "$dir/updated"', "true"))
    with pytest.raises(packages.PackageError, match="apt-get install nowhere failed: E: Unable to locate package"):
        packages.apt_install("nowhere")


def test_without_apt_get_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(packages.PackageError, match="haproxy missing and no apt-get"):
        packages.apt_install("haproxy")
