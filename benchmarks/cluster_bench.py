"""The cluster beside one embedded process and beside vanilla Plone 6.2.2, in one run.

    .venv/bin/python benchmarks/cluster_bench.py            # about 10 minutes
    CB_SCALE=0.2 .venv/bin/python benchmarks/cluster_bench.py   # smoke run (durations x 0.2)

Everything lives in benchmarks/var/cluster/ (recreated on every run: a fresh site) on its own
ports (Varnish 18180, HAProxy 18190 + stats 18191, clients 18181/18182, ZEO 18200, Redis 18379,
single process 18185), so a developer's `make start`/`make start-cluster` is not disturbed.

1. Starts the cluster with finserv's controller (finserv.core.health.cluster: ZEO + 2 Zope
   clients with 1 thread + HAProxy + Varnish + Redis + Celery worker) on a new database; the
   controller creates the finserv site with its demo content.
2. Probe: does an anonymous view write to the database? Data.fs size before/after a few
   anonymous GETs (the transactions written are decoded at the end).
3. Adds /vanilla (plain Plone 6.2.2) to the same database, a member `benchmember` (group
   `public`, no second factor) in both sites, and one folder per write scenario with
   Contributor for the member (benchmarks/cluster_zope.py through ZEO).
4. Cluster load: anonymous pages through Varnish and through HAProxy (no cache), authenticated
   REST reads (JWT from POST @login) and REST writes (POST Document into one folder), at 10,
   50, 100 closed-loop clients, CB_SECONDS (15) each.
5. Stops the cluster, serves the same Data.fs with one embedded process (runwsgi, waitress 2
   threads, FileStorage, like `make start`) and repeats the scenarios on /finserv and /vanilla.
6. Counts the created objects per write folder (lost writes = 201 answers without an object),
   decodes the probe's transactions, writes the tables between the `bench:cluster` markers of
   benchmarks/README.md and prints them.
Environment: CB_SECONDS (15), CB_SCALE (1.0), CB_CLIENTS ("10,50,100"). `--report` renders the README
section again from the last run's saved results (benchmarks/var/cluster/results.pickle).
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import load  # noqa: E402
import requests  # noqa: E402

from finserv.core.health.cluster import Cluster  # noqa: E402
from finserv.core.health.cluster import ClusterConfig  # noqa: E402

VAR = HERE / "var" / "cluster"
HOST = "127.0.0.1"
PORTS = dict(port=18180, lb_port=18190, stats_port=18191, zeo_port=18200, redis_port=18379,
             client_ports=[18181, 18182])
SINGLE_PORT = 18185
SCALE = float(os.environ.get("CB_SCALE", "1"))
SECONDS = float(os.environ.get("CB_SECONDS", "15")) * SCALE
LEVELS = [int(x) for x in os.environ.get("CB_CLIENTS", "10,50,100").split(",")]
USER, PASSWORD = "benchmember", "Bench-Member-2026x"
BIN = Path(sys.executable).parent
README = HERE / "README.md"
START, END = "<!-- bench:cluster:start -->", "<!-- bench:cluster:end -->"
JSON = {"Accept": "application/json"}
T0 = time.time()
PHASES = {}


def log(msg):
    print(f"[cluster-bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- processes and /proc -----------------------------------------------------------------------


def group_pids(leader):
    """The pids of the process group ``leader`` leads (the controller starts every process so)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[2]) == leader:
                pids.append(int(entry))
    return pids or [leader]


def cpu_seconds(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def busy_seconds():
    """CPU seconds (all cores, user+nice+system+irq+softirq+steal) the machine has been busy."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:3]) + sum(fields[5:8])) / os.sysconf("SC_CLK_TCK")


def own_seconds():
    t = os.times()
    return t.user + t.system


def memory(pid):
    return load.ServerCPU(pid).memory()


class CPU:
    """Callable for load.run: CPU seconds of a set of process groups; also keeps a split."""

    def __init__(self, groups):
        self.groups = groups  # name -> leader pid

    def by_group(self):
        return {name: cpu_seconds(group_pids(pid)) for name, pid in self.groups.items() if pid}

    def __call__(self):
        return sum(self.by_group().values())


# --- the load driver (GETs and POSTs, status classes, cache hits) -------------------------------


def drive(name, clients, seconds, make, cpu=None, ok=(200,), timeout=90):
    """Closed loop like load.run, but ``make(session, k)`` sends any request; counts 5xx apart."""
    result = load.Result(name, clients)
    result.status = {}
    result.hits = 0
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)
    deadline = [0.0]
    counter = itertools.count()

    def client(index):
        session = requests.Session()
        local, status, samples, hits, nbytes, errors = [], {}, [], 0, 0, 0
        gate.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline[0]:
                break
            k = next(counter)
            try:
                response = make(session, k)
                body = response.content
                elapsed = time.perf_counter() - t0
                code = response.status_code
                status[code] = status.get(code, 0) + 1
                if code in ok:
                    local.append(elapsed)
                    nbytes += len(body)
                    hits += response.headers.get("X-Cache", "").upper().startswith("HIT")
                else:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(f"HTTP {code} {body[:160]!r}")
            except requests.RequestException as error:
                errors += 1
                status[type(error).__name__] = status.get(type(error).__name__, 0) + 1
                if len(samples) < 3:
                    samples.append(f"{type(error).__name__}: {str(error)[:120]}")
        session.close()
        with lock:
            result.latencies += local
            result.errors += errors
            result.error_samples += samples[: max(0, 5 - len(result.error_samples))]
            result.bytes += nbytes
            result.hits += hits
            for key, n in status.items():
                result.status[key] = result.status.get(key, 0) + n

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    cpu0 = cpu() if cpu else 0.0
    busy0, own0 = busy_seconds(), own_seconds()
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    gate.wait()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - t0
    result.server_cpu = (cpu() - cpu0) if cpu else 0.0
    result.driver_cores = (own_seconds() - own0) / result.wall
    result.server_cores = result.server_cpu / result.wall
    result.other_cores = max(0.0, (busy_seconds() - busy0) / result.wall - result.driver_cores - result.server_cores)
    return result


def get(urls, headers=None):
    def make(session, k):
        return session.get(urls[k % len(urls)], headers=headers, timeout=90)
    return make


def post(url, headers, tag):
    def make(session, k):
        body = {"@type": "Document", "title": f"基准写入 {tag} {k}", "description": "cluster_bench"}
        return session.post(url, json=body, headers={**headers, **JSON}, timeout=90)
    return make


def token(base, site):
    r = requests.post(f"{base}/{site}/@login", json={"login": USER, "password": PASSWORD}, headers=JSON, timeout=60)
    if r.status_code != 200 or "token" not in r.json():
        raise SystemExit(f"@login on /{site} failed: HTTP {r.status_code} {r.text[:300]}")
    return {"Authorization": f"Bearer {r.json()['token']}"}


def warm(urls, headers=None):
    s = requests.Session()
    out = {}
    for u in urls:
        try:
            c = s.get(u, headers=headers, timeout=120).status_code
        except requests.RequestException as e:
            c = type(e).__name__
        out[c] = out.get(c, 0) + 1
    return out


# --- the setups ---------------------------------------------------------------------------------


def fresh_var():
    if VAR.exists():
        leftover = VAR / "cluster" / "cluster.json"
        if leftover.exists():  # an interrupted earlier run: stop what it started (its pid files)
            Cluster(ClusterConfig(**json.loads(leftover.read_text())), out=log).stop()
        shutil.rmtree(VAR)
    for sub in ("etc", "log", "filestorage", "blobstorage", "cache", "keys"):
        (VAR / sub).mkdir(parents=True, exist_ok=True)


def datafs_size():
    try:
        return (VAR / "filestorage" / "Data.fs").stat().st_size
    except OSError:
        return 0


def zconsole(conf, mode, folders=""):
    out = VAR / f"zope-{mode}.json"
    env = dict(os.environ, CB_MODE=mode, CB_OUT=str(out), CB_USER=USER, CB_PASSWORD=PASSWORD, CB_FOLDERS=folders,
               FINSERV_VAR=str(VAR))
    subprocess.run([str(BIN / "zconsole"), "run", str(conf), str(HERE / "cluster_zope.py")], env=env, cwd=VAR,
                   check=True)
    return json.loads(out.read_text())


def single_config():
    conf = (ROOT / "instance" / "zope.conf.in").read_text().replace("@VAR@", str(VAR))
    (VAR / "etc" / "zope.conf").write_text(conf)
    ini = (ROOT / "instance" / "zope.ini.in").read_text()
    ini = ini.replace("@VAR@", str(VAR)).replace("@HOST@", HOST).replace("@PORT@", str(SINGLE_PORT))
    (VAR / "etc" / "zope.ini").write_text(ini)
    threads = [ln.split("=")[1].strip() for ln in ini.splitlines() if ln.strip().startswith("threads")]
    return threads[0] if threads else "?"


def start_single():
    with socket.socket() as s:
        if s.connect_ex((HOST, SINGLE_PORT)) == 0:
            raise SystemExit(f"port {SINGLE_PORT} is in use")
    out = open(VAR / "log" / "single.out", "ab")
    proc = subprocess.Popen([str(BIN / "runwsgi"), str(VAR / "etc" / "zope.ini")], cwd=VAR, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the single instance exited with {proc.returncode}; see {VAR / 'log'}")
        try:
            if requests.get(f"http://{HOST}:{SINGLE_PORT}/finserv/@@health", timeout=5).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_single(proc)
    raise SystemExit("the single instance did not answer within 180 s")


def stop_single(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the session this script started
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the probe: does an anonymous view write? ---------------------------------------------------


def probe_anonymous_writes(client_ports):
    steps = []
    size = datafs_size()
    t_start = time.time()
    time.sleep(3)
    steps.append(("3 s idle (health checks, worker): control", datafs_size() - size))
    urls = [
        ("GET /finserv on client1 (first view)", client_ports[0], "/finserv"),
        ("GET /finserv on client1 again", client_ports[0], "/finserv"),
        ("GET /finserv on client2 (its first view)", client_ports[1], "/finserv"),
        ("GET /finserv/policies (listing) on client1", client_ports[0], "/finserv/policies"),
        ("REST GET /finserv/@search?portal_type=Policy on client1", client_ports[0],
         "/finserv/@search?portal_type=Policy&b_size=1"),
        ("GET /finserv again on client1", client_ports[0], "/finserv"),
    ]
    for label, port, path in urls:
        before = datafs_size()
        headers = JSON if "@search" in path else {}
        r = requests.get(f"http://{HOST}:{port}{path}", headers=headers, timeout=120)
        time.sleep(0.5)
        steps.append((f"{label} → HTTP {r.status_code}", datafs_size() - before))
    return {"steps": steps, "t_start": t_start, "t_end": time.time()}


def decode_transactions(t_start, t_end):
    """Transactions committed in [t_start, t_end], with the classes of the objects they wrote."""
    from ZODB.FileStorage import FileStorage
    from ZODB.TimeStamp import TimeStamp
    from ZODB.utils import get_pickle_metadata

    fs = FileStorage(str(VAR / "filestorage" / "Data.fs"), read_only=True)
    out = []
    try:
        for txn in fs.iterator():
            when = TimeStamp(txn.tid).timeTime()
            if t_start - 1 <= when <= t_end + 1:
                classes = {}
                for rec in txn:
                    if rec.data:
                        mod, cls = get_pickle_metadata(rec.data)
                        classes[f"{mod}.{cls}"] = classes.get(f"{mod}.{cls}", 0) + 1
                out.append({"time": datetime.datetime.utcfromtimestamp(when).strftime("%H:%M:%S.%f")[:-3],
                            "user": txn.user.decode(errors="replace") if isinstance(txn.user, bytes) else txn.user,
                            "description": (txn.description.decode(errors="replace")
                                            if isinstance(txn.description, bytes) else txn.description),
                            "objects": classes})
    finally:
        fs.close()
    return out


# --- scenarios ----------------------------------------------------------------------------------


def scenario_set(target, base, site, page, auth, folder, cpu):
    """The scenarios of one target: {kind: (make-function factory by clients, ok statuses)}."""
    home, item = f"{base}/{site}", f"{base}{page}"
    return {
        "anon": (lambda c: get([home, item]), (200,)),
        "read": (lambda c: get([item], {**JSON, **auth}), (200,)),
        "write": (lambda c: post(f"{base}{folder(c)}", auth, f"{target}-{c}"), (201,)),
    }


def folder_path(site, target, clients):
    return f"/{site}/bench-writes/{target}-c{clients}"


# --- report -------------------------------------------------------------------------------------


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def five(res):
    return sum(n for k, n in res.status.items() if isinstance(k, int) and k >= 500)


def machine():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        from importlib.metadata import version
        plone = version("Products.CMFPlone")
    except Exception:
        plone = "?"
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": f"{mem:.1f} GiB", "python": platform.python_version(),
            "plone (Products.CMFPlone)": plone}


def report(ctx):
    results, counts, mem = ctx["results"], ctx["counts"], ctx["memory"]
    by = {(r.target, r.kind, r.clients): r for r in results}
    label = {"cluster-varnish": "cluster via Varnish (public entry)", "cluster-haproxy": "cluster via HAProxy (no cache)",
             "single": "single process (2 threads)", "vanilla": "vanilla Plone 6.2.2 (single process)"}
    kinds = {"anon": "anonymous pages (home page + one policy / document page, HTML)",
             "read": "authenticated REST GET of the policy / document (JWT)",
             "write": "authenticated REST POST of a Document into one folder (JWT, Contributor)"}
    L = []
    now = ctx["date"]
    L.append("## The cluster beside one process and beside vanilla Plone 6.2.2")
    L.append("")
    L.append(f"Produced by `.venv/bin/python benchmarks/cluster_bench.py` on {now} in {ctx['runtime']:.0f} s "
             f"({SECONDS:g} s per scenario). Do not edit by hand: the next run replaces everything between the markers.")
    L.append("")
    # verdicts
    L.append("### Verdict")
    L.append("")
    for line in ctx["verdicts"]:
        L.append(f"- {line}")
    L.append("")
    L.append("### Machine and setup")
    L.append("")
    L.append("| fact | value |")
    L.append("|---|---|")
    for k, v in {**machine(), "date": now, "load average at start / end": ctx["loadavg"],
                 "git": ctx["git"]}.items():
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append(
        "- **cluster**: finserv's controller (`finserv.core.health.cluster`, the code of `make start-cluster`) on its own "
        f"ports and var dir (`benchmarks/var/cluster/`): Varnish :{PORTS['port']} → HAProxy :{PORTS['lb_port']} "
        f"(leastconn, maxconn 2 per client) → 2 Zope clients :{PORTS['client_ports'][0]}/:{PORTS['client_ports'][1]} "
        f"(waitress, 1 thread each) → ZEO :{PORTS['zeo_port']}; Redis and the Celery worker run too. A new database: "
        "the controller created the finserv site with its demo content.")
    L.append(f"- **single**: the same Data.fs served by one embedded process (`runwsgi`, waitress {ctx['threads']} threads, "
             "FileStorage, `instance/zope.conf.in` + `zope.ini.in`: what `make start` runs), run after the cluster was stopped.")
    L.append("- **vanilla**: a plain Plone 6.2.2 site `/vanilla` (plone.app.contenttypes, plone.app.layout, barceloneta, "
             "plone.restapi; zh-cn, themed on 127.0.0.1, navigation depth 1) in that same single process, with one published "
             "Document `bench-page` (~1 KB of Chinese text).")
    L.append(f"- Pages: `/finserv` and `{ctx['paths']['policy']}` alternately (vanilla: `/vanilla` and `/vanilla/bench-page`). "
             "REST reads: the policy (vanilla: the Document) with `Accept: application/json` and a JWT from `POST @login` "
             f"of `{USER}` (group `public`: no second factor). Writes: `POST` of `{{\"@type\": \"Document\", \"title\": …}}` "
             "into one folder per scenario, the member has Contributor there; a write is OK only with HTTP 201. Cluster "
             "reads and writes go through the public entry (Varnish passes requests with an `Authorization` header).")
    L.append("- Load: closed loop from this process (Python threads, keep-alive `requests` sessions) on 127.0.0.1, "
             "**sharing the 2 cores with the servers**. `server CPU ms/req`: user+system CPU of the serving processes "
             "(cluster: both Zope clients + ZEO + HAProxy + Varnish + Redis + worker; single: the one process) over the "
             "scenario, divided by the requests. `cores` = CPU cores busy on average during the scenario: the servers, "
             "this load generator, and **other processes on the machine** (other engineers' test runs share it; "
             "from /proc/stat) — a scenario with much `other` is disturbed. 5xx are counted apart from other errors (a ConflictError that survived "
             "Zope's 3 retries is a 500).")
    L.append("")
    L.append("### Results")
    L.append("")
    for kind, title in kinds.items():
        L.append(f"#### {title}")
        L.append("")
        L.append("| setup | clients | requests | req/s | p50 ms | p90 ms | p99 ms | errors (5xx) | cache hits | server CPU ms/req | cores: servers / load gen. / other | vs single | vs vanilla |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for clients in LEVELS:
            for target in ("cluster-varnish", "cluster-haproxy", "single", "vanilla"):
                r = by.get((target, kind, clients))
                if r is None:
                    continue
                row = r.row()
                s, v = by.get(("single", kind, clients)), by.get(("vanilla", kind, clients))
                vs_s = f"{r.rps / s.rps:.2f}x" if s and s.rps and target.startswith("cluster") else ""
                vs_v = f"{r.rps / v.rps:.2f}x" if v and v.rps and target != "vanilla" else ""
                L.append(f"| {label[target]} | {clients} | {row['requests']:,} | {fmt(row['req_s'])} | {fmt(row['p50_ms'])} | "
                         f"{fmt(row['p90_ms'])} | {fmt(row['p99_ms'])} | {r.errors} ({five(r)}) | "
                         f"{r.hits if target == 'cluster-varnish' else '–'} | {fmt(row['server_cpu_ms_per_req'])} | {r.server_cores:.2f} / {r.driver_cores:.2f} / {r.other_cores:.2f} | {vs_s} | {vs_v} |")
        L.append("")
    samples = [f"{r.target} {r.kind} {r.clients}: {r.status} e.g. {r.error_samples[:2]}" for r in results if r.errors]
    if samples:
        L.append("Errors seen:")
        L.append("")
        for s in samples:
            L.append(f"- {s}")
        L.append("")
    L.append("#### Lost writes (objects in the folder afterwards vs HTTP 201 answers)")
    L.append("")
    L.append("`lost` = 201 answers without an object (must be 0). `created without 201` = objects whose client got an "
             "error instead (the write happened but the client was told it failed: a retry duplicates it).")
    L.append("")
    L.append("| setup | clients | HTTP 201 | objects in folder | in catalog | lost | created without 201 | 5xx |")
    L.append("|---|---|---|---|---|---|---|---|")
    for (target, clients), row in counts.items():
        r = by.get((target, "write", clients))
        L.append(f"| {label[target]} | {clients} | {row['created']} | {row['objects']} | {row['catalog']} | "
                 f"{max(0, row['created'] - row['objects'])} | {max(0, row['objects'] - row['created'])} | {five(r) if r else '–'} |")
    L.append("")
    L.append("#### Memory after the load (MiB, from /proc)")
    L.append("")
    L.append("| process | VmRSS | VmHWM (peak) |")
    L.append("|---|---|---|")
    for name, m in mem.items():
        L.append(f"| {name} | {m.get('VmRSS', '–')} | {m.get('VmHWM', '–')} |")
    L.append("")
    L.append("### Does an anonymous view write to the database?")
    L.append("")
    L.append("Data.fs growth (bytes) on the fresh cluster, before any other request of this benchmark:")
    L.append("")
    L.append("| step | Data.fs growth, bytes |")
    L.append("|---|---|")
    for label_, delta in ctx["probe"]["steps"]:
        L.append(f"| {label_} | {delta:,} |")
    L.append("")
    if ctx["probe_txns"]:
        L.append("Transactions committed during the probe (decoded from Data.fs afterwards):")
        L.append("")
        for t in ctx["probe_txns"]:
            L.append(f"- {t['time']} user `{t['user']}` description `{t['description']}` objects {t['objects']}")
        L.append("")
    else:
        L.append("No transaction was committed during the probe.")
        L.append("")
    for line in ctx.get("probe_notes", []):
        L.append(line)
    L.append("")
    L.append("### Why the writes fail (found by this benchmark)")
    L.append("")
    for line in ctx.get("findings", []):
        L.append(line)
        L.append("")
    L.append("### Phases (wall time, s)")
    L.append("")
    L.append("| phase | seconds |")
    L.append("|---|---|")
    for k, v in PHASES.items():
        L.append(f"| {k} | {v:.1f} |")
    L.append("")
    L.append("### Reproduce")
    L.append("")
    L.append("```sh")
    L.append(".venv/bin/python benchmarks/cluster_bench.py                 # ~10 min, needs haproxy, varnishd, redis-server")
    L.append("CB_SCALE=0.2 .venv/bin/python benchmarks/cluster_bench.py    # smoke run")
    L.append("CB_SECONDS=30 CB_CLIENTS=10,100 .venv/bin/python benchmarks/cluster_bench.py")
    L.append("```")
    return "\n".join(L)


def write_readme(text):
    current = README.read_text() if README.exists() else "# Benchmarks\n"
    block = f"{START}\n{text}\n{END}"
    if START in current and END in current:
        head, rest = current.split(START, 1)
        tail = rest.split(END, 1)[1]
        current = head + block + tail
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(current)


def phase(name):
    return load.Phase(name, PHASES, log)


def loadavg():
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def git_state():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True).stdout
        n = len([x for x in dirty.splitlines() if x.strip()])
        return f"{head} + {n} uncommitted change(s) under src/ (measured as they were)"
    except Exception:
        return "?"


def verdicts(results, counts):
    by = {(r.target, r.kind, r.clients): r for r in results}
    out = []
    top = max(LEVELS)
    r = by.get(("cluster-varnish", "anon", top))
    if r:
        p90 = r.pct(90) * 1000 if r.latencies else float("inf")
        out.append(f"**Anonymous pages through the cache, {top} clients, p90 < 300 ms: {'PASS' if p90 < 300 and r.errors == 0 else 'FAIL'}** — "
                   f"p90 {p90:.1f} ms, {r.rps:.0f} req/s, {r.hits:,} of {len(r.latencies):,} answers were cache hits, {r.errors} errors; "
                   f"the limit is this Python load generator ({r.driver_cores:.2f} cores busy), the servers used {r.server_cores:.2f} cores.")
    r = by.get(("cluster-varnish", "read", top))
    if r:
        p90 = r.pct(90) * 1000 if r.latencies else float("inf")
        s = by.get(("single", "read", top))
        out.append(f"**Authenticated REST reads, {top} clients, p90 < 1 s (cluster): {'PASS' if p90 < 1000 and r.errors == 0 else 'FAIL'}** — "
                   f"p90 {p90:.0f} ms, {r.rps:.0f} req/s, {r.errors} errors"
                   + (f" (single process: p90 {s.pct(90) * 1000:.0f} ms, {s.rps:.0f} req/s)" if s and s.latencies else "") + ".")
    lines = []
    ok = True
    for (target, clients), row in counts.items():
        r = by.get((target, "write", clients))
        lost = max(0, row["created"] - row["objects"])
        phantom = max(0, row["objects"] - row["created"])
        errs = r.errors if r else 0
        if target.startswith("cluster"):
            ok = ok and lost == 0 and errs == 0
        lines.append(f"{target} {clients}: {errs} errors ({five(r) if r else 0} 5xx), {lost} lost"
                     + (f", {phantom} created although the client got an error" if phantom else ""))
    out.append(f"**Concurrent writes into one folder with zero errors and zero lost writes (cluster): {'PASS' if ok else 'FAIL'}** — "
               + "; ".join(lines) + ".")
    ratios = []
    for kind, target in (("anon", "cluster-haproxy"), ("read", "cluster-varnish"), ("write", "cluster-varnish")):
        for clients in LEVELS:
            c, s = by.get((target, kind, clients)), by.get(("single", kind, clients))
            if c and s and s.rps:
                ratios.append((kind, clients, c.rps / s.rps, c, s))
    uncached = [x for x in ratios if x[0] in ("anon", "read")]
    passed = uncached and all(x[2] >= 1.7 for x in uncached if x[1] == top)
    out.append(f"**Two-client cluster ≥ 1.7x one process (uncached pages and REST reads at {top} clients): "
               f"{'PASS' if passed else 'FAIL'}** — " + ", ".join(f"{k} {c}: {ratio:.2f}x" for k, c, ratio, _, _ in ratios)
               + ". Server CPU per request " + ", ".join(
                   f"{k} {c}: cluster {1000 * cr.server_cpu / cr.count:.1f} ms vs single {1000 * sr.server_cpu / sr.count:.1f} ms"
                   for k, c, _r, cr, sr in ratios if c == top and cr.count and sr.count)
               + ". On this 2-core machine the load generator, HAProxy, Varnish, ZEO and both clients share two cores: "
               "a single process already uses about one core (the GIL), so at most ~2x is available in theory and the "
               "load generator takes a share of it; the ratio measures this box, not what two client machines would give.")
    disturbed = [r for r in results if getattr(r, "other_cores", 0) > 0.3]
    if disturbed:
        out.append(f"**Caution — {len(disturbed)} of {len(results)} scenarios ran while other processes on the machine "
                   "(other engineers' test runs) kept > 0.3 of a core busy** (column `cores … other`): "
                   + ", ".join(f"{r.target} {r.kind} {r.clients} ({r.other_cores:.1f})" for r in disturbed)
                   + ". A single process is GIL-bound to one core and loses little to them; the cluster needs both "
                   "cores and loses most, so the cluster/single ratios of a disturbed run understate the cluster. "
                   "Run again on a quiet machine before drawing conclusions from the ratios.")
    cached = by.get(("cluster-varnish", "anon", top)), by.get(("single", "anon", top)), by.get(("vanilla", "anon", top))
    if all(cached) and cached[1].rps and cached[2].rps:
        out.append(f"Anonymous pages at {top} clients through the cache: {cached[0].rps / cached[1].rps:.1f}x the single process, "
                   f"{cached[0].rps / cached[2].rps:.1f}x vanilla Plone (repeated views of two pages: nearly all cache hits).")
    return out


def write_findings(results, haproxy_log):
    out = []
    samples = " ".join(" ".join(r.error_samples) for r in results if r.kind == "write")
    if "CMFUid" in samples:
        out.append(
            "- **500 ConflictError on `portal_uidgenerator` (every setup, vanilla Plone included).** Every Document "
            "created is versioned at once: `plone.app.versioningbehavior`'s subscriber "
            "`create_initial_version_after_adding` (`plone/app/versioningbehavior/subscribers.py` line 64, active "
            "because Document has CMFEditions' `at_edit_autoversion` policy) saves an initial version, which takes a "
            "history id from `Products.CMFUid.UniqueIdGeneratorTool.__call__` "
            "(`Products/CMFUid/UniqueIdGeneratorTool.py` lines 57-65: `self._uid_counter += 1`, a plain int on the "
            "tool object — oid 0x5f here). Every concurrent create therefore writes the same object: with "
            "10–100 writers some requests lose all of Zope's 3 retries and answer 500; the folder itself (a BTree "
            "folder) is not the hot spot. The retries also make writes slow (several seconds at 50–100 writers) "
            "and serialise both cluster clients on that one object, which is why the cluster writes no faster than one "
            "process. Fix (finserv profile, no src change made here): do not auto-version on creation for the types "
            "created concurrently — `portal_repository.removePolicyFromContentType('Document', "
            "'at_edit_autoversion')` in a setup/upgrade step, or `repositorytool.xml` without that policy for "
            "Document (an editor's explicit save still versions); for types that must keep history, create the "
            "initial version later (async via the Celery worker, one writer) rather than in the request. Give "
            "bulk records (registrations, loans …) a type without `plone.versioning`, as Policy already has "
            "its own. Do not replace the counter by `BTrees.Length` (CMFUid dropped it: its conflict resolution "
            "can hand out duplicate ids).")
    down = [ln for ln in haproxy_log if "is DOWN" in ln and ln.startswith("[WARNING]")]
    phantom = [r for r in results if r.kind == "write" and r.target.startswith("cluster") and r.status.get(503)]
    if phantom or down:
        out.append(
            f"- **503 \"Backend fetch failed\" on cluster writes: HAProxy marks healthy clients DOWN and kills their "
            f"requests.** This run's HAProxy log has {len(down)} `Server zope_clients/clientN is DOWN, reason: Layer7 "
            "timeout, check duration: 5000ms … 2 sessions active` event(s) (DOWN with requests in flight) during the write scenarios, alongside the "
            "503s. Each client has ONE waitress thread (`threads = 1`) and HAProxy sends it up to 2 requests "
            "(`maxconn 2`): the `GET /@@health` check waits in waitress' queue behind a write that takes 3–8 s "
            "(ConflictError retries), exceeds `timeout check 5s` twice (`fall 2`), and "
            "`on-marked-down shutdown-sessions` (instance/haproxy.cfg.in, `default-server` line) then aborts the "
            "requests in flight on that client. Zope still finishes and commits them: a client gets 503 for a "
            "Document that was created (see `created without 201`), and while one client is DOWN all traffic goes to "
            "the other. Fix (instance/haproxy.cfg.in and instance/zope-zeo.ini.in): drop `on-marked-down "
            "shutdown-sessions` (a dead process is detected by the refused connection and redispatched anyway), and "
            "either give the check a free thread (`threads = 2` in zope-zeo.ini.in with `maxconn 1` per server: one "
            "thread for traffic, one for checks) or raise `timeout check` above the longest request (e.g. 30s; "
            "refused connections still fail at once).")
    return out


def probe_notes(txns):
    if not any(any(".portlets." in c or "portlet_" in c for c in t["objects"]) for t in txns):
        return []
    return [
        "**Yes: the first anonymous view writes.** The transaction above is committed by an anonymous GET "
        "(user ` None`); it rewrites the site's portlet assignments (one per assignment: navigation, events, static, "
        "actions, plus an `OOBTree` and a `PersistentMapping` each). Cause: `plone.portlets` 4.0.0, "
        "`plone/portlets/retriever.py` line 143 (`PortletRetriever.getPortlets`) and line 188 "
        "(`PlacelessPortletRetriever`) call `IPortletAssignmentSettings(assignment)` only to read `visible`; the "
        "adapter, `plone/portlets/settings.py` lines 32-39 (`portletAssignmentSettingsFactory`), *creates* the "
        "settings on first use: `annotations[ASSIGNMENT_SETTINGS_KEY] = PortletAssignmentSettings()` (an "
        "`__annotations__` OOBTree on the assignment plus the settings' `PersistentMapping`). Every assignment made "
        "without touching its settings (all those created by GenericSetup/`setuphandlers` at site creation, and any "
        "added later by code) is therefore written by the first request that renders it — under ZEO possibly by "
        "both clients at once (a ConflictError, retried), and it invalidates the object in every client cache.",
        "",
        "Fix in finserv (src/ is not this benchmark's to edit): at the end of the site setup "
        "(`src/finserv/portal/setuphandlers.py`, after the portlets are assigned, and as an upgrade step for "
        "existing sites) materialise the settings in the setup transaction: for every "
        "`name, manager in getUtilitiesFor(IPortletManager)` and the portal (and every folder with local "
        "assignments, e.g. the sections `block_navigation_portlet` touches), "
        "`for a in getMultiAdapter((portal, manager), IPortletAssignmentMapping).values(): "
        "IPortletAssignmentSettings(a)`. Upstream fix (plone.portlets): read without creating, "
        "`settings = IAnnotations(assignment).get(ASSIGNMENT_SETTINGS_KEY); "
        "visible = settings.get('visible', True) if settings is not None else True`.",
    ]


def main():
    t_start = time.time()
    ctx = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "git": git_state()}
    la0 = loadavg()
    results, counts201 = [], {}
    folders = ",".join(f"{t}-c{c}" for t in ("cluster", "single", "vanilla") for c in LEVELS)
    cluster = None
    single = None
    try:
        with phase("fresh var dir"):
            fresh_var()
        with phase("start cluster (creates the site)"):
            cfg = ClusterConfig(var=str(VAR), **PORTS)
            cluster = Cluster(cfg, out=lambda m: log(f"cluster: {m}"))
            cluster.start()
        with phase("probe: anonymous views and Data.fs"):
            ctx["probe"] = probe_anonymous_writes(PORTS["client_ports"])
            for label_, delta in ctx["probe"]["steps"]:
                log(f"probe: {label_}: +{delta} bytes")
        with phase("setup: vanilla site, member, folders (zconsole over ZEO)"):
            ctx["paths"] = zconsole(cfg.etc / "zope-admin.conf", "setup", folders)
            if not ctx["paths"].get("policy"):
                raise SystemExit("no published Policy in the demo content")
        pub = f"http://{HOST}:{PORTS['port']}"
        lb = f"http://{HOST}:{PORTS['lb_port']}"
        groups = {name: cluster.pid(name) for name in ("client1", "client2", "zeo", "haproxy", "varnish", "redis", "worker")}
        cpu = CPU(groups)
        with phase("cluster load"):
            auth = token(pub, "finserv")
            policy = ctx["paths"]["policy"]
            log(f"warm: {warm([pub + '/finserv', pub + policy, lb + '/finserv', lb + policy])}")
            kinds = scenario_set("cluster", pub, "finserv", policy, auth, lambda c: folder_path("finserv", "cluster", c), cpu)
            lbkinds = scenario_set("cluster", lb, "finserv", policy, auth, None, cpu)
            for clients in LEVELS:
                for target, kind, (factory, ok) in (("cluster-varnish", "anon", kinds["anon"]),
                                                    ("cluster-haproxy", "anon", lbkinds["anon"]),
                                                    ("cluster-varnish", "read", kinds["read"]),
                                                    ("cluster-varnish", "write", kinds["write"])):
                    res = drive(f"{target} {kind}", clients, SECONDS, factory(clients), cpu, ok)
                    res.kind, res.target = kind, target
                    results.append(res)
                    if kind == "write":
                        counts201[("cluster-varnish", clients)] = res.status.get(201, 0)
                    r = res.row()
                    log(f"{target:16} {kind:5} {clients:3}: {r['req_s']:7.1f} req/s p50 {r['p50_ms']} p90 {r['p90_ms']} "
                        f"p99 {r['p99_ms']} cpu/req {r['server_cpu_ms_per_req']} cores srv/gen/other {res.server_cores:.2f}/{res.driver_cores:.2f}/{res.other_cores:.2f} status {res.status} hits {res.hits}"
                        + (f" e.g. {res.error_samples[:2]}" if res.errors else ""))
            ctx["memory"] = {f"cluster {n}": memory(groups[n]) for n in ("client1", "client2", "zeo")}
        with phase("stop cluster"):
            cluster.stop()
            cluster = None
        with phase("start single process"):
            ctx["threads"] = single_config()
            single = start_single()
        with phase("single + vanilla load"):
            base = f"http://{HOST}:{SINGLE_PORT}"
            scpu = CPU({"single": single.pid})
            t_v0, before = time.time(), datafs_size()
            first = requests.get(base + "/vanilla", timeout=120).status_code
            time.sleep(0.5)
            ctx["probe"]["steps"].append((f"vanilla Plone: first GET /vanilla (single process) → HTTP {first}",
                                          datafs_size() - before))
            ctx["probe_vanilla"] = (t_v0, time.time())
            fauth, vauth = token(base, "finserv"), token(base, "vanilla")
            log(f"warm: {warm([base + '/finserv', base + policy, base + '/vanilla', base + '/vanilla/bench-page'])}")
            skinds = scenario_set("single", base, "finserv", policy, fauth, lambda c: folder_path("finserv", "single", c), scpu)
            vkinds = scenario_set("vanilla", base, "vanilla", "/vanilla/bench-page", vauth,
                                  lambda c: folder_path("vanilla", "vanilla", c), scpu)
            for clients in LEVELS:
                for target, ks in (("single", skinds), ("vanilla", vkinds)):
                    for kind, (factory, ok) in ks.items():
                        res = drive(f"{target} {kind}", clients, SECONDS, factory(clients), scpu, ok)
                        res.kind, res.target = kind, target
                        results.append(res)
                        if kind == "write":
                            counts201[(target, clients)] = res.status.get(201, 0)
                        r = res.row()
                        log(f"{target:16} {kind:5} {clients:3}: {r['req_s']:7.1f} req/s p50 {r['p50_ms']} p90 {r['p90_ms']} "
                            f"p99 {r['p99_ms']} cpu/req {r['server_cpu_ms_per_req']} cores srv/gen/other {res.server_cores:.2f}/{res.driver_cores:.2f}/{res.other_cores:.2f} status {res.status}"
                            + (f" e.g. {res.error_samples[:2]}" if res.errors else ""))
            ctx["memory"]["single process (finserv + vanilla)"] = memory(single.pid)
        with phase("stop single process"):
            stop_single(single)
            single = None
        with phase("count created objects, decode probe transactions"):
            found = zconsole(VAR / "etc" / "zope.conf", "count")
            counts = {}
            for (target, clients), created in counts201.items():
                site = "vanilla" if target == "vanilla" else "finserv"
                short = "cluster" if target.startswith("cluster") else target
                row = found.get(folder_path(site, short, clients), {"objects": 0, "catalog": 0})
                counts[(target, clients)] = {"created": created, **row}
            ctx["counts"] = counts
            ctx["probe_txns"] = decode_transactions(ctx["probe"]["t_start"], ctx["probe"]["t_end"])
            ctx["probe_txns"] += decode_transactions(*ctx["probe_vanilla"])
    finally:
        if single is not None:
            stop_single(single)
        if cluster is not None:
            cluster.stop()
    ctx["probe_notes"] = probe_notes(ctx.get("probe_txns", []))
    try:
        hlog = (VAR / "log" / "haproxy.log").read_text(errors="replace").splitlines()
    except OSError:
        hlog = []
    ctx["findings"] = write_findings(results, hlog)
    ctx["results"] = results
    ctx["loadavg"] = f"start {la0}; end {loadavg()}"
    ctx["runtime"] = time.time() - t_start
    ctx["verdicts"] = verdicts(results, ctx["counts"])
    import pickle

    with open(VAR / "results.pickle", "wb") as f:
        pickle.dump({"ctx": ctx, "phases": PHASES}, f)
    text = report(ctx)
    write_readme(text)
    print(text)
    log(f"done in {ctx['runtime']:.0f} s; results in {README}")


def rerender():
    """--report: render the README section again from the saved results of the last run."""
    import pickle

    with open(VAR / "results.pickle", "rb") as f:
        saved = pickle.load(f)
    PHASES.update(saved["phases"])
    ctx = saved["ctx"]
    ctx["verdicts"] = verdicts(ctx["results"], ctx["counts"])
    try:
        hlog = (VAR / "log" / "haproxy.log").read_text(errors="replace").splitlines()
    except OSError:
        hlog = []
    ctx["findings"] = write_findings(ctx["results"], hlog)
    ctx["probe_notes"] = probe_notes(ctx.get("probe_txns", []))
    text = report(ctx)
    write_readme(text)
    print(text)


if __name__ == "__main__":
    rerender() if "--report" in sys.argv else main()
