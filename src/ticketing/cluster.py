"""One machine, many hosts: PgBouncer in front of the local PostgreSQL, N `ticketing serve`
hosts each in a network namespace of its own, and HAProxy in front of them (scripts/cluster).

For tests and demos of docs/deploy.md, on Debian's own `haproxy` and `pgbouncer`. It needs root
(network namespaces, veth links). Everything it starts is recorded in its state directory
(`state.json`, pids, configs, logs) and `down` stops exactly that and removes exactly the
namespaces and links it made.

Addresses: host i (1-based) is linked to the root namespace by its own veth pair, a /30 of
`SUBNET` each: root side .4i+1, host side .4i+2. PgBouncer listens on every root-side address
(and 127.0.0.1), HAProxy on 127.0.0.1 and reaches host i at .4i+2 from .4i+1, which is the one
proxy that host trusts. Nothing is routed: no traffic leaves the machine.

Environment: every host gets this process's environment, then ``extra_env`` (``up``'s keyword),
then its database URL, secret key and trusted proxy. In an ``extra_env`` value, ``{root_addr}``
stands for the host's own root-side address, the one address in the root namespace it reaches
(for a service there, say an SMTP server: ``smtp://{root_addr}:2525``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ticketing.packages import PackageError, apt_install

DEFAULT_STATE = Path(os.environ.get("TICKETING_CLUSTER_DIR", "/tmp/ticketing-cluster"))
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/ticketing_cluster"
SUBNET = "10.213.7"  # a private /24, only ever on links inside this machine
HOST_PORT = 8000
MAX_HOSTS = 60  # 60 /30s fit in one /24
# The PostgreSQL role that PgBouncer runs as: it refuses to run as root.
PGBOUNCER_USER = "postgres"
TICKETING = str(Path(sys.executable).with_name("ticketing"))


class ClusterError(RuntimeError):
    """Something the operator must fix; the message is for them."""


# -- what is running, as recorded in state.json ------------------------------------------------
@dataclass
class Host:
    index: int
    netns: str
    root_link: str
    root_addr: str
    addr: str
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.addr}:{HOST_PORT}"

    @property
    def server_name(self) -> str:  # its name in haproxy.cfg
        return f"h{self.index}"


@dataclass
class Cluster:
    state_dir: Path
    name: str
    database_url: str  # PostgreSQL itself; hosts go through PgBouncer
    workers: int
    haproxy_port: int
    stats_port: int
    pgbouncer_port: int
    hosts: list[Host] = field(default_factory=list)
    subnet: str = SUBNET
    # More environment for every host (on top of this process's): tests' cheap hashing, say;
    # "{root_addr}" in a value is that host's root-side address (host_env).
    extra_env: dict[str, str] = field(default_factory=dict)
    # PgBouncer's own directory (config, pid, log), owned by the user it runs as: outside the
    # state directory, which may sit where that user cannot reach (a 0700 temporary directory).
    pgbouncer_dir: str = ""
    pgbouncer_pid: int | None = None
    haproxy_pid: int | None = None

    # -- addresses and files
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.haproxy_port}"

    @property
    def pooled_url(self) -> str:
        """The database URL a host uses: the same database through PgBouncer."""
        database = self.database_url.rsplit("/", 1)[1]
        return f"postgresql://postgres@127.0.0.1:{self.pgbouncer_port}/{database}"

    def host_database_url(self, host: Host) -> str:
        return self.pooled_url.replace("127.0.0.1", host.root_addr, 1)

    def path(self, name: str) -> Path:
        return self.state_dir / name

    def save(self) -> None:
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        draft = self.path("state.json.tmp")
        draft.write_text(json.dumps(data, indent=2))
        draft.replace(self.path("state.json"))

    @classmethod
    def load(cls, state_dir: Path) -> Cluster:
        data = json.loads((state_dir / "state.json").read_text())
        data["state_dir"] = Path(data["state_dir"])
        data["hosts"] = [Host(**host) for host in data["hosts"]]
        return cls(**data)

    def host(self, index: int) -> Host:
        for host in self.hosts:
            if host.index == index:
                return host
        raise ClusterError(f"no host {index} (hosts: {', '.join(str(h.index) for h in self.hosts)})")


# -- small helpers -------------------------------------------------------------------------------
def require_root() -> None:
    if os.geteuid() != 0:
        raise ClusterError("scripts/cluster needs root: it creates network namespaces and veth links "
                           "(run it with sudo, or as root in a container with CAP_NET_ADMIN)")


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise ClusterError(f"{' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0, every: float = 0.05) -> None:
    """Returns once ``condition()`` holds; raises ClusterError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


# The processes this process started, so that `alive` can reap them (and no one else's child).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid in _CHILDREN:
        return _CHILDREN[pid].poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (a process that ended and is waiting for a parent that is not this one) is gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def stop_pid(pid: int | None, sig: int = signal.SIGTERM, timeout: float = 20.0, group: bool = True) -> None:
    """Signals ``pid`` (its process group when it leads one) and waits for it to end; SIGKILL after
    ``timeout``."""
    if not alive(pid):
        return
    assert pid is not None

    def send(s: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group and os.getpgid(pid) == pid:
                os.killpg(pid, s)
            else:
                os.kill(pid, s)

    send(sig)
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            send(signal.SIGKILL)
            deadline = time.monotonic() + 5
        time.sleep(0.05)


# Straight to the address asked: never through a proxy named in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, timeout: float = 1.0) -> int | None:
    try:
        with _DIRECT.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return None


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    with open(log, "ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    _CHILDREN[process.pid] = process
    return process.pid


# -- packages --------------------------------------------------------------------------------------
def install_packages() -> None:
    """Debian's haproxy and pgbouncer, when missing."""
    missing = [name for name in ("haproxy", "pgbouncer") if shutil.which(name) is None
               and not Path(f"/usr/sbin/{name}").exists()]
    if not missing:
        return
    print(f"cluster: installing {' '.join(missing)} with apt-get", flush=True)
    try:
        apt_install(*missing)
    except PackageError as error:
        raise ClusterError(str(error)) from error


def binary(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


# -- network namespaces ----------------------------------------------------------------------------
def _plan_hosts(name: str, count: int, subnet: str) -> list[Host]:
    if not 1 <= count <= MAX_HOSTS:
        raise ClusterError(f"N must be 1 to {MAX_HOSTS}")
    return [
        Host(index=i, netns=f"{name}-h{i}", root_link=f"{name}h{i}", root_addr=f"{subnet}.{4 * i + 1}",
             addr=f"{subnet}.{4 * i + 2}")
        for i in range(1, count + 1)
    ]


def add_netns(host: Host) -> None:
    peer = f"{host.root_link}p"
    _run("ip", "netns", "add", host.netns)
    _run("ip", "link", "add", host.root_link, "type", "veth", "peer", "name", peer)
    _run("ip", "link", "set", peer, "netns", host.netns)
    _run("ip", "addr", "add", f"{host.root_addr}/30", "dev", host.root_link)
    _run("ip", "link", "set", host.root_link, "up")
    _run("ip", "-n", host.netns, "link", "set", "lo", "up")
    _run("ip", "-n", host.netns, "addr", "add", f"{host.addr}/30", "dev", peer)
    _run("ip", "-n", host.netns, "link", "set", peer, "up")


def remove_netns(host: Host) -> None:
    # Deleting one end of a veth pair deletes the other; deleting the namespace deletes its end.
    _run("ip", "link", "del", host.root_link, check=False)
    _run("ip", "netns", "del", host.netns, check=False)


# -- PgBouncer --------------------------------------------------------------------------------------
def pgbouncer_ini(cluster: Cluster) -> str:
    listen = ",".join(["127.0.0.1", *(host.root_addr for host in cluster.hosts)])
    return f"""\
; Written by scripts/cluster; deploy/pgbouncer.ini says why each setting is as it is.
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = {listen}
listen_port = {cluster.pgbouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {cluster.pgbouncer_dir}/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
reserve_pool_size = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits
server_login_retry = 1
query_wait_timeout = 10
pidfile = {cluster.pgbouncer_dir}/pgbouncer.pid
logfile = {cluster.pgbouncer_dir}/pgbouncer.log
log_connections = 0
log_disconnections = 0
"""


def start_pgbouncer(cluster: Cluster) -> None:
    # PgBouncer refuses to run as root: it runs as PGBOUNCER_USER, in a directory of its own.
    if not cluster.pgbouncer_dir:
        cluster.pgbouncer_dir = tempfile.mkdtemp(prefix=f"ticketing-cluster-{cluster.name}-pgbouncer-")
    home = Path(cluster.pgbouncer_dir)
    ini = home / "pgbouncer.ini"
    ini.write_text(pgbouncer_ini(cluster))
    (home / "userlist.txt").write_text('"postgres" ""\n')
    (home / "pgbouncer.pid").unlink(missing_ok=True)
    for path in (home, ini, home / "userlist.txt"):
        shutil.chown(path, user=PGBOUNCER_USER)
    cluster.pgbouncer_pid = _spawn([binary("pgbouncer"), "-u", PGBOUNCER_USER, str(ini)], cluster.path("pgbouncer.out"))
    cluster.save()
    wait_for(lambda: _accepts("127.0.0.1", cluster.pgbouncer_port) or not alive(cluster.pgbouncer_pid),
             "PgBouncer to listen")
    if not alive(cluster.pgbouncer_pid):
        raise ClusterError(f"PgBouncer exited at start: see {cluster.path('pgbouncer.out')} and {home / 'pgbouncer.log'}")


def stop_pgbouncer(cluster: Cluster, sig: int = signal.SIGTERM) -> None:
    # SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for clients to leave).
    stop_pid(cluster.pgbouncer_pid, sig, group=False)
    cluster.pgbouncer_pid = None
    cluster.save()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# -- hosts -----------------------------------------------------------------------------------------
def host_env(cluster: Cluster, host: Host) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    # Each host reaches the root namespace at an address of its own: a service there is named per host.
    env.update({key: value.replace("{root_addr}", host.root_addr) for key, value in cluster.extra_env.items()})
    env.update({
        "TICKETING_DATABASE_URL": cluster.host_database_url(host),
        "TICKETING_DATABASE_POOLER": "transaction",
        "TICKETING_SECRET_KEY": cluster.path("secret-key").read_text().strip(),
        # HAProxy reaches this host from the root side of its link, and only from there.
        "TICKETING_TRUSTED_PROXIES": host.root_addr,
    })
    return env


def start_host(cluster: Cluster, host: Host, timeout: float = 60.0) -> None:
    if alive(host.pid):
        raise ClusterError(f"host {host.index} is already running (pid {host.pid})")
    args = ["ip", "netns", "exec", host.netns, TICKETING, "serve", "--host", host.addr, "--port", str(HOST_PORT),
            "--workers", str(cluster.workers), "--no-migrate"]
    # `ip netns exec` execs the command: the pid is the server's, and it leads its own group.
    host.pid = _spawn(args, cluster.path(f"host{host.index}.log"), host_env(cluster, host))
    cluster.save()
    wait_ready(cluster, host, timeout)


def wait_ready(cluster: Cluster, host: Host, timeout: float = 60.0) -> None:
    def ready() -> bool:
        if not alive(host.pid):
            raise ClusterError(f"host {host.index} exited at start: see {cluster.path(f'host{host.index}.log')}")
        return http_status(f"{host.url}/readyz") == 200

    wait_for(ready, f"host {host.index} to be ready", timeout)


def stop_host(cluster: Cluster, host: Host, sig: int = signal.SIGTERM) -> None:
    """SIGTERM: uvicorn's graceful shutdown (in-flight requests finish); SIGKILL: a crash."""
    stop_pid(host.pid, sig)
    host.pid = None
    cluster.save()


def migrate(cluster: Cluster) -> None:
    """`ticketing migrate` once, through PgBouncer (transaction-level migration lock)."""
    env = {**os.environ, "TICKETING_DATABASE_URL": cluster.pooled_url, "TICKETING_DATABASE_POOLER": "transaction",
           "TICKETING_SECRET_KEY": cluster.path("secret-key").read_text().strip()}
    done = subprocess.run([TICKETING, "migrate"], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise ClusterError(f"ticketing migrate failed: {done.stderr.strip()[-1500:]}")


def create_database(database_url: str) -> None:
    """Creates the database when it does not exist (PostgreSQL itself, not through PgBouncer)."""
    name = database_url.rsplit("/", 1)[1]
    base = database_url.rsplit("/", 1)[0]
    host_port = base.rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    psql = ["psql", "-h", host, "-p", port or "5432", "-U", "postgres", "-d", "postgres", "-tAc"]
    exists = _run(*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'").stdout.strip()
    if exists != "1":
        _run(*psql, f'CREATE DATABASE "{name}"')


# -- HAProxy ---------------------------------------------------------------------------------------
# HAProxy's own 503 (no host ready: all down, or PostgreSQL unreachable from all) in the
# contract's shape, with the Retry-After clients wait for.
UNAVAILABLE = '{\\"detail\\":\\"no server is ready; see Retry-After\\",\\"code\\":\\"unavailable\\"}'


def haproxy_cfg(cluster: Cluster) -> str:
    """deploy/haproxy.cfg's settings for these hosts and ports (comments there), adapted to one test
    machine: longer client/server timeouts and downinter for storms on two shared cores, no syslog."""
    servers = "\n".join(
        f"    server {host.server_name} {host.addr}:{HOST_PORT} check" for host in cluster.hosts
    )
    return f"""\
# Written by scripts/cluster from deploy/haproxy.cfg's settings, adapted to one test machine; see the comments there.
global
    maxconn 4000
    stats socket {cluster.path("haproxy.sock")} mode 600 level admin
    pidfile {cluster.path("haproxy.pid")}

defaults
    mode http
    log global
    option dontlognull
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 5s
    timeout queue 10s
    option forwardfor

frontend api
    bind 127.0.0.1:{cluster.haproxy_port}
    http-request del-header X-Forwarded-For
    http-request del-header X-Forwarded-Proto
    default_backend hosts

backend hosts
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 500ms rise 2 fall 2
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response
    http-request disable-l7-retry if !METH_GET !METH_OPTIONS !{{ req.hdr(idempotency-key) -m found }}
    http-error status 503 content-type application/json hdr Retry-After 2 string "{UNAVAILABLE}"
{servers}

listen stats
    bind 127.0.0.1:{cluster.stats_port}
    stats enable
    stats uri /stats
    stats refresh 5s
"""


def start_haproxy(cluster: Cluster) -> None:
    cfg = cluster.path("haproxy.cfg")
    cfg.write_text(haproxy_cfg(cluster))
    _run(binary("haproxy"), "-c", "-q", "-f", str(cfg))
    cluster.haproxy_pid = _spawn([binary("haproxy"), "-db", "-f", str(cfg)], cluster.path("haproxy.log"))
    cluster.save()
    wait_for(lambda: _accepts("127.0.0.1", cluster.haproxy_port) or not alive(cluster.haproxy_pid),
             "HAProxy to listen")
    if not alive(cluster.haproxy_pid):
        raise ClusterError(f"HAProxy exited at start: see {cluster.path('haproxy.log')}")


def haproxy_command(cluster: Cluster, command: str) -> str:
    """One command on HAProxy's admin socket (`show stat`, `set server hosts/h1 state drain`)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(cluster.path("haproxy.sock")))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def server_states(cluster: Cluster) -> dict[str, dict[str, str]]:
    """HAProxy's view of each host: {"h1": {"status": "UP", "scur": "3", ...}}."""
    lines = haproxy_command(cluster, "show stat").splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ClusterError(f"unexpected answer to `show stat`: {lines[:1]}")
    columns = lines[0][2:].split(",")
    states = {}
    for line in lines[1:]:
        row = dict(zip(columns, line.split(","), strict=False))
        if row.get("pxname") == "hosts" and row.get("svname", "").startswith("h"):
            states[row["svname"]] = row
    return states


def server_status(cluster: Cluster, host: Host) -> str:
    """UP, DOWN, MAINT, DRAIN, or UP/DOWN with a transition ("UP 1/2")."""
    return server_states(cluster).get(host.server_name, {}).get("status", "?")


def rolling_restart(cluster: Cluster, host: Host, timeout: float = 60.0) -> None:
    """Takes ``host`` out of HAProxy, waits for its requests to finish, restarts it gracefully
    and puts it back once its health check passes: no request fails on its account."""
    name = f"hosts/{host.server_name}"
    haproxy_command(cluster, f"set server {name} state maint")
    wait_for(lambda: server_states(cluster)[host.server_name].get("scur") == "0", f"{name} to drain", timeout)
    stop_host(cluster, host, signal.SIGTERM)
    start_host(cluster, host, timeout)
    haproxy_command(cluster, f"set server {name} state ready")
    wait_for(lambda: server_status(cluster, host) == "UP", f"{name} to be UP", timeout)


# -- up / down / status ----------------------------------------------------------------------------
def up(state_dir: Path, count: int, *, workers: int = 1, port: int | None = None,
       database_url: str = DEFAULT_DATABASE_URL, name: str = "tkc", subnet: str = SUBNET,
       extra_env: dict[str, str] | None = None) -> Cluster:
    require_root()
    if (state_dir / "state.json").exists():
        raise ClusterError(f"a cluster is already recorded in {state_dir}: run `scripts/cluster down` first")
    if not subnet.startswith("10.") or subnet.count(".") != 2:
        raise ClusterError(f"the subnet must be the first three numbers of a 10.x.y.0/24, not {subnet!r}")
    if len(name) > 8 or not name.isalnum():
        raise ClusterError("the cluster name must be 1 to 8 letters or digits (it names links)")
    install_packages()
    state_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(state_dir=state_dir, name=name, database_url=database_url, workers=workers,
                      haproxy_port=port or free_port(), stats_port=free_port(), pgbouncer_port=free_port(),
                      hosts=_plan_hosts(name, count, subnet), subnet=subnet, extra_env=dict(extra_env or {}))
    key = cluster.path("secret-key")
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        # Every host must sign and check tokens with the same key.
        handle.write(cluster.extra_env.get("TICKETING_SECRET_KEY") or os.environ.get("TICKETING_SECRET_KEY")
                     or secrets.token_urlsafe(48))
    cluster.save()
    try:
        for host in cluster.hosts:
            add_netns(host)
        create_database(database_url)
        start_pgbouncer(cluster)
        migrate(cluster)
        for host in cluster.hosts:
            start_host(cluster, host)
        start_haproxy(cluster)
        wait_for(lambda: all(server_status(cluster, h) == "UP" for h in cluster.hosts), "every host UP in HAProxy")
    except BaseException:
        down(state_dir)
        raise
    return cluster


def down(state_dir: Path) -> None:
    require_root()
    if not (state_dir / "state.json").exists():
        return
    cluster = Cluster.load(state_dir)
    stop_pid(cluster.haproxy_pid, group=False)
    for host in cluster.hosts:
        stop_pid(host.pid)
    stop_pid(cluster.pgbouncer_pid, group=False)
    for host in cluster.hosts:
        remove_netns(host)
    if cluster.pgbouncer_dir:
        shutil.rmtree(cluster.pgbouncer_dir, ignore_errors=True)
    cluster.path("state.json").unlink()


def status(state_dir: Path) -> list[str]:
    if not (state_dir / "state.json").exists():
        return [f"no cluster recorded in {state_dir}"]
    cluster = Cluster.load(state_dir)
    states: dict[str, dict[str, str]] = {}
    if alive(cluster.haproxy_pid):
        with contextlib.suppress(OSError, ClusterError):
            states = server_states(cluster)
    lines = [
        f"HAProxy    {cluster.url}  pid {cluster.haproxy_pid} {'running' if alive(cluster.haproxy_pid) else 'STOPPED'}"
        f"  (stats http://127.0.0.1:{cluster.stats_port}/stats)",
        f"PgBouncer  127.0.0.1:{cluster.pgbouncer_port}  pid {cluster.pgbouncer_pid} "
        f"{'running' if alive(cluster.pgbouncer_pid) else 'STOPPED'}  -> {cluster.database_url}",
    ]
    for host in cluster.hosts:
        seen = states.get(host.server_name, {}).get("status", "?")
        lines.append(f"host {host.index:<4}  {host.url}  netns {host.netns}  pid {host.pid} "
                     f"{'running' if alive(host.pid) else 'STOPPED'}  haproxy {seen}")
    return lines


@contextlib.contextmanager
def running(state_dir: Path, count: int, **options: object) -> Iterator[Cluster]:
    """``up`` for the length of a ``with`` block, then ``down``."""
    cluster = up(state_dir, count, **options)  # type: ignore[arg-type]  # the keywords of up()
    try:
        yield cluster
    finally:
        down(state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE,
                        help=f"state directory (default {DEFAULT_STATE}, or TICKETING_CLUSTER_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="PgBouncer, N hosts and HAProxy")
    start.add_argument("hosts", type=int, metavar="N")
    start.add_argument("--workers", type=int, default=1, help="`ticketing serve` workers per host")
    start.add_argument("--port", type=int, default=8080, help="HAProxy's port on 127.0.0.1 (0: any free one)")
    start.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL itself (created if missing)")
    start.add_argument("--subnet", default=SUBNET, help=f"the hosts' private 10.x.y.0/24 (default {SUBNET}.0/24)")
    commands.add_parser("down", help="stop what `up` started and remove its namespaces")
    commands.add_parser("status", help="what runs, and HAProxy's view of each host")
    for verb, text in (("kill-host", "SIGKILL host I's server"), ("start-host", "start host I again"),
                       ("restart-host", "take host I out of HAProxy (maint), restart it gracefully, put it back")):
        commands.add_parser(verb, help=text).add_argument("index", type=int, metavar="I")
    commands.add_parser("restart-pgbouncer", help="stop PgBouncer and start it again")
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            print("\n".join(status(args.state)))
            return 0
        require_root()
        if args.command == "up":
            cluster = up(args.state, args.hosts, workers=args.workers, port=args.port or None,
                         database_url=args.database_url, subnet=args.subnet)
            print("\n".join(status(args.state)))
            print(f"cluster: the API is at {cluster.url}; `scripts/cluster down` stops it")
            return 0
        if args.command == "down":
            down(args.state)
            print("cluster: down")
            return 0
        cluster = Cluster.load(args.state)
        if args.command == "restart-pgbouncer":
            stop_pgbouncer(cluster)
            start_pgbouncer(cluster)
        elif args.command == "kill-host":
            stop_host(cluster, cluster.host(args.index), signal.SIGKILL)
        elif args.command == "start-host":
            start_host(cluster, cluster.host(args.index))
        elif args.command == "restart-host":
            rolling_restart(cluster, cluster.host(args.index))
        print("\n".join(status(args.state)))
        return 0
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 2 if "needs root" in str(error) else 1
    except FileNotFoundError as error:
        print(f"cluster: no cluster recorded ({error.filename}): run `scripts/cluster up N` first", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
