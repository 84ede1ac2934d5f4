"""Starts, stops and reports on the cluster on one machine (``make start-cluster``).

    python -m finserv.core.health.cluster start|stop|status [--var DIR] [--port 8080] …

Processes, each daemonised with a pid file in ``<var>/cluster/`` and a log in ``<var>/log/``:

- ``redis``   Redis (Celery broker), 127.0.0.1:6379;
- ``zeo``     the ZEO server (runzeo) serving ``<var>/filestorage/Data.fs`` + ``<var>/blobstorage``;
- ``client1``, ``client2``, …  Zope clients (runwsgi, one waitress thread), 8081, 8082, …;
- ``haproxy`` the load balancer, 8090 (stats page 8091), health checks on ``/@@health``;
- ``varnish`` the caching proxy in front of HAProxy on the public port (8080);
- ``worker``  the Celery worker, when ``finserv.core.tasks.celery`` is importable.

The configuration is rendered from the templates in ``instance/`` into ``<var>/cluster/etc/``
and the effective settings are kept in ``<var>/cluster/cluster.json`` for ``stop``/``status``.
Only this module's own pid files are used to stop processes. Everything listens on 127.0.0.1
(``--host``). The test in tests/cluster uses the same class on a throwaway directory.
"""

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parents[4]  # the project checkout (src/finserv/core/health)
INSTANCE = ROOT / "instance"
BIN = Path(sys.executable).parent


def _bin(name):
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    return found or name


@dataclass
class ClusterConfig:
    var: str
    host: str = "127.0.0.1"
    port: int = 8080  # public: the caching proxy (or the load balancer without one)
    lb_port: int = 8090
    stats_port: int = 8091
    zeo_port: int = 8100
    redis_port: int = 6379
    client_ports: list = field(default_factory=lambda: [8081, 8082])
    site_id: str = "finserv"
    threads: int = 1
    maxconn: int = 2
    check_inter: str = "2s"
    cache: bool = True  # Varnish
    redis: bool = True
    worker: bool = True
    create_site: bool = True
    storage: str = ""  # default <var>/filestorage
    blobs: str = ""  # default <var>/blobstorage

    def __post_init__(self):
        self.var = str(Path(self.var).resolve())
        self.storage = self.storage or f"{self.var}/filestorage"
        self.blobs = self.blobs or f"{self.var}/blobstorage"

    @property
    def run(self):
        return Path(self.var) / "cluster"

    @property
    def etc(self):
        return self.run / "etc"

    @property
    def log(self):
        return Path(self.var) / "log"

    @property
    def clients(self):
        return [(f"client{i}", port) for i, port in enumerate(self.client_ports, 1)]

    @property
    def broker(self):
        return f"redis://{self.host}:{self.redis_port}/0" if self.redis else ""

    @property
    def public_port(self):
        return self.port if self.cache else self.lb_port


class Cluster:
    def __init__(self, config: ClusterConfig, out=print):
        self.c = config
        self.out = out
        self.procs = {}  # name → Popen, for processes this object started

    # --- configuration ----------------------------------------------------------------------

    def values(self, **extra):
        c = self.c
        values = {
            "VAR": c.var,
            "RUN": str(c.run),
            "ETC": str(c.etc),
            "LOG": str(c.log),
            "HOST": c.host,
            "PORT": str(c.port),
            "LB_PORT": str(c.lb_port),
            "STATS_PORT": str(c.stats_port),
            "REDIS_PORT": str(c.redis_port),
            "ZEO_ADDRESS": f"{c.host}:{c.zeo_port}",
            "STORAGE": c.storage,
            "BLOBS": c.blobs,
            "THREADS": str(c.threads),
            "MAXCONN": str(c.maxconn),
            "CHECK_INTER": c.check_inter,
            "CLUSTER_CLIENTS": ",".join(f"{n}=http://{c.host}:{p}" for n, p in c.clients),
        }
        values.update(extra)
        return values

    @staticmethod
    def render_template(name, values):
        text = (INSTANCE / name).read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        return text

    def environment_lines(self):
        lines = []
        if self.c.cache:
            lines.append(f"    FINSERV_PURGE_PROXY http://{self.c.host}:{self.c.port}")
        if self.c.broker:
            lines.append(f"    FINSERV_CELERY_BROKER {self.c.broker}")
        return "\n".join(lines)

    def zope_conf(self, name, cache_name=True):
        return self.render_template(
            "zope-zeo.conf.in",
            self.values(
                CLIENT=name,
                ENVIRONMENT=self.environment_lines(),
                CLIENT_CACHE=f"      client {name}" if cache_name else "",
            ),
        )

    def render(self):
        c = self.c
        for path in (c.etc, c.log, c.run / "zeocache", Path(c.storage), Path(c.blobs), Path(c.var) / "cache"):
            path.mkdir(parents=True, exist_ok=True)
        os.chmod(c.blobs, 0o700)  # ZEO insists on a private blob directory
        (c.etc / "zeo.conf").write_text(self.render_template("zeo.conf.in", self.values()))
        for name, port in c.clients:
            (c.etc / f"zope-{name}.conf").write_text(self.zope_conf(name))
            (c.etc / f"{name}.ini").write_text(
                self.render_template("zope-zeo.ini.in", self.values(CLIENT=name, CLIENT_PORT=str(port)))
            )
        # scripts (site creation, zconsole, backups) and the Celery worker
        (c.etc / "zope-admin.conf").write_text(self.zope_conf("admin", cache_name=False))
        (c.etc / "zope-worker.conf").write_text(self.zope_conf("worker"))
        servers = "\n".join(f"    server {n} {c.host}:{p} check" for n, p in c.clients)
        (c.etc / "haproxy.cfg").write_text(self.render_template("haproxy.cfg.in", self.values(SERVERS=servers)))
        (c.etc / "varnish.vcl").write_text(self.render_template("varnish.vcl.in", self.values()))
        (c.etc / "redis.conf").write_text(self.render_template("redis.conf.in", self.values()))
        (c.run / "cluster.json").write_text(json.dumps(asdict(c), indent=2))

    # --- processes --------------------------------------------------------------------------

    def pidfile(self, name):
        return self.c.run / f"{name}.pid"

    def pid(self, name):
        try:
            return int(self.pidfile(name).read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self, name):
        pid = self.pid(name)
        if not pid:
            return False
        proc = self.procs.get(name)
        if proc is not None and proc.pid == pid:
            return proc.poll() is None
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    def spawn(self, name, cmd, env=None):
        log = open(self.c.log / f"{name}.log", "ab")
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.c.var,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: stopped as a unit
        )
        log.close()
        self.procs[name] = proc
        self.pidfile(name).write_text(f"{proc.pid}\n")
        return proc

    def stop_process(self, name, timeout=20):
        pid = self.pid(name)
        if pid is None:
            return False
        was_alive = self.alive(name)
        if was_alive:
            self._signal(pid, signal.SIGTERM)
            deadline = time.time() + timeout
            while self.alive(name) and time.time() < deadline:
                time.sleep(0.1)
            if self.alive(name):
                self._signal(pid, signal.SIGKILL)
                deadline = time.time() + 5
                while self.alive(name) and time.time() < deadline:
                    time.sleep(0.1)
        else:
            # the leader is gone; make sure nothing of its group is left behind
            self._signal(pid, signal.SIGKILL)
        proc = self.procs.pop(name, None)
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.pidfile(name).unlink(missing_ok=True)
        return was_alive

    @staticmethod
    def _signal(pid, sig):
        try:
            os.killpg(pid, sig)  # the process group it leads (start_new_session)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def kill(self, name):
        """SIGKILL one process (the failure test)."""
        self._signal(self.pid(name), signal.SIGKILL)
        proc = self.procs.get(name)
        if proc is not None:
            proc.wait(timeout=10)

    # --- waiting ----------------------------------------------------------------------------

    def wait_port(self, port, name, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive(name):
                raise RuntimeError(f"{name} exited: see {self.c.log / (name + '.log')}")
            try:
                with socket.create_connection((self.c.host, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} does not listen on {self.c.host}:{port} after {timeout} s")

    def wait_health(self, port, name=None, timeout=180):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if name and not self.alive(name):
                raise RuntimeError(f"{name} exited: see {self.c.log / (name + '-event.log')} and {name}.log")
            last = health(self.c.host, port)
            if last.get("status") == "ok":
                return last
            time.sleep(0.5)
        raise RuntimeError(f"no healthy answer on port {port} after {timeout} s: {last}")

    # --- the cluster ------------------------------------------------------------------------

    def check_storage_free(self):
        """Refuses to start while another process (``make start``, zconsole) has Data.fs open."""
        import zc.lockfile

        lock = Path(self.c.storage) / "Data.fs.lock"
        if not (Path(self.c.storage) / "Data.fs").exists():
            return
        try:
            zc.lockfile.LockFile(str(lock)).close()
        except zc.lockfile.LockError:
            raise SystemExit(
                f"{self.c.storage}/Data.fs is open in another process (the embedded `make start`, "
                "or a zconsole script): stop it first; the cluster serves the same database."
            )

    def check_ports(self):
        """Refuses to start when a port is taken by something that is not ours."""
        c = self.c
        wanted = {"zeo": c.zeo_port, "haproxy": c.lb_port, **dict(c.clients)}
        if c.redis:
            wanted["redis"] = c.redis_port
        if c.cache:
            wanted["varnish"] = c.port
        busy = []
        for name, port in wanted.items():
            if self.alive(name):
                continue
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((c.host, port))
                except OSError:
                    busy.append(f"{name} {c.host}:{port}")
        if busy:
            raise SystemExit(
                "ports already in use (another cluster, `make start`, a system service?): "
                + ", ".join(busy)
                + " — choose others with PORT=… LB_PORT=… CLIENT_PORTS=… ZEO_PORT=… REDIS_PORT=…"
            )

    def start(self):
        c = self.c
        started = time.time()
        c.run.mkdir(parents=True, exist_ok=True)
        if not self.alive("zeo"):
            self.check_storage_free()
        self.check_ports()
        self.render()
        if c.redis and not self.alive("redis"):
            self.spawn("redis", [_bin("redis-server"), str(c.etc / "redis.conf")])
            self.wait_port(c.redis_port, "redis", 20)
            self.out(f"redis     {c.host}:{c.redis_port}")
        self.start_zeo()
        if c.create_site:
            self.ensure_site()
        self.start_clients()
        if not self.alive("haproxy"):
            self.spawn("haproxy", [_bin("haproxy"), "-f", str(c.etc / "haproxy.cfg")])
            self.wait_port(c.lb_port, "haproxy", 20)
            self.wait_health(c.lb_port, timeout=30)
            self.out(f"haproxy   {c.host}:{c.lb_port}  (stats http://{c.host}:{c.stats_port}/)")
        if c.cache and not self.alive("varnish"):
            self.spawn(
                "varnish",
                [
                    _bin("varnishd"), "-F",
                    "-a", f"{c.host}:{c.port}",
                    "-f", str(c.etc / "varnish.vcl"),
                    "-n", str(c.run / "varnish"),
                    "-s", "malloc,256m",
                    "-t", "0",  # nothing is cached without Cache-Control from Plone
                    "-T", "none",
                ],
            )
            self.wait_port(c.port, "varnish", 30)
            self.out(f"varnish   {c.host}:{c.port}  (caching proxy, public entry)")
        if c.worker and c.redis and not self.alive("worker"):
            self.start_worker()
        elapsed = time.time() - started
        self.out(f"cluster started in {elapsed:.1f} s: http://{c.host}:{c.public_port}/{c.site_id}")
        return elapsed

    def start_zeo(self):
        c = self.c
        if not self.alive("zeo"):
            self.spawn("zeo", [_bin("runzeo"), "-C", str(c.etc / "zeo.conf")])
            self.wait_port(c.zeo_port, "zeo", 120)
            self.out(f"zeo       {c.host}:{c.zeo_port}  ({c.storage}/Data.fs)")

    def start_clients(self):
        c = self.c
        todo = [(n, p) for n, p in c.clients if not self.alive(n)]
        for name, port in todo:
            self.spawn(name, [_bin("runwsgi"), str(c.etc / f"{name}.ini")])
        for name, port in todo:
            self.wait_health(port, name)
            self.out(f"{name:9} {c.host}:{port}")

    def ensure_site(self):
        c = self.c
        env = {"SITE_ID": c.site_id, "FINSERV_VAR": c.var}
        subprocess.run(
            [_bin("zconsole"), "run", str(c.etc / "zope-admin.conf"), str(Path(__file__).with_name("cluster_site.py"))],
            check=True,
            cwd=c.var,
            env={**os.environ, **env},
        )

    def tasks_available(self):
        probe = "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('finserv.core.tasks.celery') else 1)"
        try:
            return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60).returncode == 0
        except Exception:
            return False

    def start_worker(self):
        c = self.c
        if not self.tasks_available():
            self.out("worker    skipped: finserv.core.tasks.celery is not importable yet (tasks run in-process)")
            return
        self.spawn(
            "worker",
            [_bin("celery"), "-A", "finserv.core.tasks.celery:app", "worker", "--concurrency=1", "--loglevel=INFO"],
            env={
                "FINSERV_CELERY_BROKER": c.broker,
                "FINSERV_ZOPE_CONF": str(c.etc / "zope-worker.conf"),
                "FINSERV_VAR": c.var,
                "SITE_ID": c.site_id,
            },
        )
        time.sleep(1)
        if not self.alive("worker"):
            self.out(f"worker    FAILED to start: see {c.log / 'worker.log'}")
        else:
            self.out(f"worker    celery, broker {c.broker}")

    def names(self):
        return ["redis", "zeo"] + [n for n, _ in self.c.clients] + ["haproxy", "varnish", "worker"]

    def stop(self):
        order = ["varnish", "haproxy", "worker"] + [n for n, _ in self.c.clients] + ["zeo", "redis"]
        for name in order:
            if self.stop_process(name):
                self.out(f"stopped {name}")

    def status(self):
        c = self.c
        ports = {"redis": c.redis_port, "zeo": c.zeo_port, "haproxy": c.lb_port, "varnish": c.port, "worker": None}
        ports.update(dict(c.clients))
        rows = []
        for name in self.names():
            if name == "varnish" and not c.cache or name in ("redis", "worker") and not c.redis:
                continue
            alive = self.alive(name)
            line = f"{name:9} {'running' if alive else 'stopped':8} pid {self.pid(name) or '-':<8}"
            if ports.get(name):
                line += f" {c.host}:{ports[name]}"
            if name.startswith("client") and alive:
                info = health(c.host, ports[name])
                line += f"  health {info.get('status')} zodb {info.get('zodb')} size {info.get('storage_size')}"
            rows.append((name, alive, line))
        return rows


def health(host, port, path="/@@health", timeout=3):
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        try:
            return json.loads(error.read())
        except Exception:
            return {"status": f"HTTP {error.code}"}
    except Exception as error:
        return {"status": "down", "error": str(error)}


def load_config(var, **overrides):
    saved = Path(var) / "cluster" / "cluster.json"
    data = json.loads(saved.read_text()) if saved.exists() else {"var": var}
    data.update({k: v for k, v in overrides.items() if v is not None})
    return ClusterConfig(**data)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m finserv.core.health.cluster")
    parser.add_argument("command", choices=["start", "stop", "status", "render"])
    parser.add_argument("--var", default=os.environ.get("FINSERV_VAR", "var"))
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--lb-port", type=int)
    parser.add_argument("--stats-port", type=int)
    parser.add_argument("--zeo-port", type=int)
    parser.add_argument("--redis-port", type=int)
    parser.add_argument("--client-ports", help="space- or comma-separated, one per client")
    parser.add_argument("--site-id")
    parser.add_argument("--no-cache", action="store_true", help="no Varnish: HAProxy is the entry")
    args = parser.parse_args(argv)
    overrides = {
        "host": args.host,
        "port": args.port,
        "lb_port": args.lb_port,
        "stats_port": args.stats_port,
        "zeo_port": args.zeo_port,
        "redis_port": args.redis_port,
        "site_id": args.site_id,
    }
    if args.client_ports:
        overrides["client_ports"] = [int(p) for p in args.client_ports.replace(",", " ").split()]
    if args.no_cache:
        overrides["cache"] = False
    if args.command in ("stop", "status"):
        # what was started, whatever the command line says now
        cluster = Cluster(load_config(args.var))
    else:
        cluster = Cluster(load_config(args.var, **overrides) if args.command == "start" else ClusterConfig(var=args.var, **{k: v for k, v in overrides.items() if v is not None}))
    if args.command == "start":
        try:
            cluster.start()
        except (RuntimeError, subprocess.CalledProcessError) as error:
            print(f"start-cluster failed: {error}", file=sys.stderr)
            print("stopping what was started", file=sys.stderr)
            cluster.stop()
            return 1
    elif args.command == "stop":
        cluster.stop()
    elif args.command == "render":
        cluster.render()
    else:
        rows = cluster.status()
        for _, _, line in rows:
            print(line)
        return 0 if rows and all(alive for _, alive, _ in rows) else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
