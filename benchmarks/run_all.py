"""Search, recall and page-render benchmarks of finserv beside a vanilla Plone 6.2.2 site.

    make bench            # = .venv/bin/python benchmarks/run_all.py

1. Writes a throwaway Zope instance to benchmarks/var/ (zope.conf and zope.ini generated from
   instance/*.in, port 8091) and builds two sites in it with ``zconsole run
   benchmarks/build_sites.py``: /finserv with 10,000 published Policy objects and /vanilla
   with 10,000 published Documents holding the same title, description and body text.
   The sites are reused by later runs (rebuilt when benchmarks/corpus.py's CORPUS_VERSION or
   BENCH_N changes, or with --rebuild).
2. Starts the instance (runwsgi, the project's waitress settings) and drives it from this
   process over 127.0.0.1: closed-loop client threads, every request timed, paired scenarios
   interleaved so background noise falls on both sides.
3. Counts hits per query in both sites against a ground truth computed from the corpus, checks
   ranking, and writes the tables to benchmarks/README.md (between markers) and prints them.

Environment: BENCH_N (10000), BENCH_SECONDS per scenario (20), BENCH_CLIENTS (10),
BENCH_PORT (8091), BENCH_VAR (benchmarks/var).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import load  # noqa: E402
import requests  # noqa: E402

try:
    from finserv.core.search import text_query
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, str(ROOT / "src"))
    from finserv.core.search import text_query

VAR = Path(os.environ.get("BENCH_VAR", HERE / "var")).resolve()
N = int(os.environ.get("BENCH_N", "10000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "10"))
PORT = int(os.environ.get("BENCH_PORT", "8091"))
HOST = "127.0.0.1"
BASE = f"http://{HOST}:{PORT}"
BIN = Path(sys.executable).parent
README = HERE / "README.md"
START, END = "<!-- bench:search-pages:start -->", "<!-- bench:search-pages:end -->"
ROUNDS = 4  # each paired scenario runs in ROUNDS interleaved slices, so that noise spreads evenly
PAGE_SAMPLE = 50  # pages cycled through in the render scenarios
ANCHOR = "p00001"  # 上海金融人才奖评审办法, 沪金规〔2024〕3号

PHASES = {}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def phase(name):
    return load.Phase(name, PHASES, log)


def write_config():
    for sub in ("etc", "log", "filestorage", "blobstorage", "cache", "keys"):
        (VAR / sub).mkdir(parents=True, exist_ok=True)
    conf = (ROOT / "instance" / "zope.conf.in").read_text().replace("@VAR@", str(VAR))
    conf = conf.replace("by `make instance`; edit the template, not var/etc.", "by benchmarks/run_all.py from instance/zope.conf.in.")
    (VAR / "etc" / "zope.conf").write_text(conf)
    ini = (ROOT / "instance" / "zope.ini.in").read_text()
    ini = ini.replace("@VAR@", str(VAR)).replace("@HOST@", HOST).replace("@PORT@", str(PORT))
    (VAR / "etc" / "zope.ini").write_text(ini)
    threads = [line.split("=")[1].strip() for line in ini.splitlines() if line.strip().startswith("threads")]
    cache = [line.split()[1] for line in conf.splitlines() if line.strip().startswith("cache-size")]
    return {"waitress_threads": threads[0] if threads else "?", "zodb_cache_size": cache[0] if cache else "?"}


def check_manifest(rebuild):
    manifest = VAR / "manifest.json"
    wanted = {"corpus_version": corpus.CORPUS_VERSION, "n": N}
    have = json.loads(manifest.read_text()) if manifest.exists() else None
    if rebuild or (have is not None and have != wanted):
        log(f"discarding the sites in {VAR} (have {have}, want {wanted}, rebuild={rebuild})")
        for sub in ("filestorage", "blobstorage"):
            shutil.rmtree(VAR / sub, ignore_errors=True)
            (VAR / sub).mkdir(parents=True)
        for name in ("hits.json", "build-timings.json", "last-run-timings.json"):
            (VAR / name).unlink(missing_ok=True)
    manifest.write_text(json.dumps(wanted))
    return (VAR / "filestorage" / "Data.fs").exists()


def build():
    env = dict(os.environ, BENCH_VAR=str(VAR), BENCH_N=str(N), BENCH_DIR=str(HERE))
    cmd = [str(BIN / "zconsole"), "run", str(VAR / "etc" / "zope.conf"), str(HERE / "build_sites.py")]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return json.loads((VAR / "last-run-timings.json").read_text())


def port_free():
    with socket.socket() as s:
        return s.connect_ex((HOST, PORT)) != 0


def start_server():
    if not port_free():
        raise SystemExit(f"port {PORT} is in use: stop what listens there (an earlier bench?) or set BENCH_PORT")
    out = open(VAR / "log" / "server.out", "ab")
    proc = subprocess.Popen([str(BIN / "runwsgi"), str(VAR / "etc" / "zope.ini")], cwd=ROOT, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the instance exited with {proc.returncode}; see {VAR / 'log'}")
        try:
            if requests.get(f"{BASE}/finserv/@policies?q=金融&b_size=1", headers=JSON, timeout=5).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise SystemExit("the instance did not answer within 180 s")


def stop_server(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the session this script started, nothing else
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- queries, recall and ranking -------------------------------------------------------------


def url_policies(q, **extra):
    params = "&".join(f"{k}={quote(str(v))}" for k, v in extra.items())
    return f"{BASE}/finserv/@policies?q={quote(q)}" + (f"&{params}" if params else "")


def url_search(q, **extra):
    params = "&".join(f"{k}={quote(str(v))}" for k, v in extra.items())
    return f"{BASE}/vanilla/@search?SearchableText={quote(q)}" + (f"&{params}" if params else "")


JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


def items_total(url):
    response = requests.get(url, headers=JSON, timeout=120)
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return response.json()["items_total"]


def recall(records, hits):
    rows = []
    for query, why in corpus.QUERIES:
        truth = corpus.relevant(records, query)
        truth_text = corpus.relevant(records, query, metadata=False)
        row = {
            "query": query, "why": why, "normalised": text_query(query),
            "truth": len(truth), "truth_text_only": len(truth_text),
            "finserv": items_total(url_policies(query, status="all", b_size=1)),
            "vanilla_raw": items_total(url_search(query, b_size=1)),
            "vanilla_norm": items_total(url_search(text_query(query) or "", b_size=1)),
        }
        for key in ("finserv", "vanilla_raw", "vanilla_norm"):
            ids = hits.get(query, {}).get(key)
            if isinstance(ids, list):
                found = set(ids)
                row[f"{key}_found_relevant"] = len(found & truth)
                row[f"{key}_recall"] = Ratio(len(found & truth) / len(truth)) if truth else None
                row[f"{key}_precision"] = Ratio(len(found & truth) / len(found)) if found else None
                top = ids[:20]
                row[f"{key}_p_at_20"] = Ratio(len(set(top) & truth) / len(top)) if top else None
            else:
                row[f"{key}_found_relevant"] = row[f"{key}_recall"] = row[f"{key}_precision"] = None
                row[f"{key}_p_at_20"] = None
        rows.append(row)
    return rows


def ranking(records, hits):
    titles = {r["id"]: r["title"] for r in records}
    checks = [("人才奖", ANCHOR), ("上海金融人才奖评审办法", ANCHOR), ("沪金规〔2024〕3号", ANCHOR)]
    out = []
    for query, target in checks:
        row = {"query": query, "target": f"{target} {titles[target]}"}
        for key in ("finserv", "vanilla_raw", "vanilla_norm"):
            ids = hits.get(query, {}).get(key)
            if not isinstance(ids, list):
                row[key] = {"rank": None, "of": None, "top5": [], "title_hits_top10": None}
                continue
            rank = ids.index(target) + 1 if target in ids else None
            top10 = ids[:10]
            row[key] = {
                "rank": rank, "of": len(ids), "top5": [titles[i] for i in ids[:5]],
                "title_hits_top10": sum(1 for i in top10 if all(t in titles[i] for t in corpus.terms(query))),
            }
        # the HTTP answer must agree with the in-process order (same catalog, same query)
        first = requests.get(url_policies(query, status="all", b_size=5), headers=JSON, timeout=60).json()["items"]
        row["finserv_http_top5"] = [item["title"] for item in first]
        first = requests.get(url_search(query, b_size=5), headers=JSON, timeout=60).json().get("items", [])
        row["vanilla_http_top5"] = [item["title"] for item in first]
        out.append(row)
    return out


# --- load scenarios ---------------------------------------------------------------------------


def scenarios(records, cpu):
    queries = [q for q, _why in corpus.QUERIES]
    finserv_search = [url_policies(q) for q in queries]
    vanilla_raw = [url_search(q, b_size=20) for q in queries]
    vanilla_norm = [url_search(text_query(q) or "", b_size=20) for q in queries]
    step = max(1, len(records) // PAGE_SAMPLE)
    sample = [r["id"] for r in records[::step]][:PAGE_SAMPLE]
    policy_pages = [f"{BASE}/finserv/policies/{i}" for i in sample]
    document_pages = [f"{BASE}/vanilla/docs/{i}" for i in sample]

    log("warming up (every url once)")
    warmups = {
        "finserv search": load.warm(finserv_search, JSON), "vanilla search raw": load.warm(vanilla_raw, JSON),
        "vanilla search normalised": load.warm(vanilla_norm, JSON),
        "policy pages": load.warm(policy_pages, HTML), "document pages": load.warm(document_pages, HTML),
        "policy REST": load.warm(policy_pages, JSON), "document REST": load.warm(document_pages, JSON),
    }
    log(f"warm-up statuses: {warmups}")
    page_check = page_equivalence(policy_pages[0], document_pages[0])

    results = {}
    groups = [
        ("search", CLIENTS, SECONDS, [("finserv @policies?q=", finserv_search, JSON),
                                      ("vanilla @search, query as typed", vanilla_raw, JSON),
                                      ("vanilla @search, finserv-normalised query", vanilla_norm, JSON)]),
        ("search", 1, SECONDS / 2, [("finserv @policies?q=", finserv_search, JSON),
                                    ("vanilla @search, query as typed", vanilla_raw, JSON),
                                    ("vanilla @search, finserv-normalised query", vanilla_norm, JSON)]),
        ("pages", 1, SECONDS, [("Policy page (HTML)", policy_pages, HTML), ("Document page (HTML)", document_pages, HTML)]),
        ("pages", CLIENTS, SECONDS, [("Policy page (HTML)", policy_pages, HTML), ("Document page (HTML)", document_pages, HTML)]),
        ("rest", 1, SECONDS / 2, [("REST GET Policy", policy_pages, JSON), ("REST GET Document", document_pages, JSON)]),
        ("rest", CLIENTS, SECONDS, [("REST GET Policy", policy_pages, JSON), ("REST GET Document", document_pages, JSON)]),
    ]
    for group, clients, seconds, specs in groups:
        with phase(f"load: {group}, {clients} client(s), {len(specs)} scenarios x {seconds:.0f} s in {ROUNDS} interleaved slices"):
            for res in load.interleaved(specs, clients, seconds, rounds=ROUNDS, cpu=cpu):
                results.setdefault(group, []).append(res)
                row = res.row()
                log(f"   {row}")
                if res.error_samples:
                    log(f"   error samples: {res.error_samples}")
    with phase("load: info, vanilla Document page with Plone's default displayed types"):
        info = default_navigation_pages(document_pages, cpu)
        if info is not None:
            results["pages_info"] = [info]
            log(f"   {info.row()}")
    # per-query latencies of the 10-client search runs
    per_query = []
    by_name = {r.name: r for r in results["search"] if r.clients == CLIENTS}
    for i, q in enumerate(queries):
        per_query.append({
            "query": q,
            **{f"{key}_p50": load.ms(load.percentile(by_name[name].per_url.get(i, []), 50))
               for key, name in (("finserv", "finserv @policies?q="), ("vanilla_raw", "vanilla @search, query as typed"))},
            **{f"{key}_p90": load.ms(load.percentile(by_name[name].per_url.get(i, []), 90))
               for key, name in (("finserv", "finserv @policies?q="), ("vanilla_raw", "vanilla @search, query as typed"))},
        })
    return results, per_query, warmups, page_check


def default_navigation_pages(document_pages, cpu):
    """1 client on the Document pages with Document put back into plone.displayed_types (Plone's
    default): the navigation portlet then queries the 10,000 siblings on every page."""
    auth = ("admin", (VAR / "admin-password").read_text().strip())
    url = f"{BASE}/vanilla/@registry"
    headers = {**JSON, "Content-Type": "application/json"}
    current = requests.get(f"{url}/plone.displayed_types", headers=JSON, auth=auth, timeout=30).json()
    patched = requests.patch(url, json={"plone.displayed_types": list(current) + ["Document"]}, headers=headers, auth=auth, timeout=30)
    if patched.status_code != 204:
        log(f"could not change plone.displayed_types ({patched.status_code}); skipping the info scenario")
        return None
    try:
        load.warm(document_pages[:5], HTML)
        return load.run("Document page, Plone's default displayed types (info)", document_pages, 1, SECONDS / 2, HTML, cpu)
    finally:
        requests.patch(url, json={"plone.displayed_types": list(current)}, headers=headers, auth=auth, timeout=30)


def page_equivalence(policy_url, document_url):
    """Both pages themed the same way? (Diazo output carries barceloneta's header markup.)"""
    out = {}
    for key, url in (("policy", policy_url), ("document", document_url)):
        response = requests.get(url, headers=HTML, timeout=60)
        html = response.text
        out[key] = {
            "status": response.status_code, "kb": round(len(response.content) / 1024, 1),
            "themed": 'data-bundle="diazo"' in html,
            "has_title": corpus.policies(1)[0]["title"] in html if key == "policy" else None,
            "nav_links": html.count('class="nav-link'),
        }
    return out


# --- report --------------------------------------------------------------------------------------


def machine():
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load_avg = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load_avg = "?"
    mem = "?"
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        from importlib.metadata import version

        plone = version("Products.CMFPlone")
    except Exception:
        plone = "?"
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu": model, "memory": mem, "python": platform.python_version(), "plone": plone,
            "load average at start (1/5/15 min)": load_avg, "git": git_state()}


def busy_processes(own=()):
    """Other processes using CPU (noise): ps's lifetime average, then a 2 s sample from /proc."""
    own = {os.getpid(), *own}
    tick = os.sysconf("SC_CLK_TCK")

    def cpu_times():
        out = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in own:
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
                except (OSError, IndexError, ValueError):
                    pass
        return out

    before = cpu_times()
    time.sleep(2)
    after = cpu_times()
    rows = []
    for pid, t in sorted(after.items(), key=lambda kv: before.get(kv[0], kv[1]) - kv[1]):
        share = (t - before.get(pid, t)) / 2 * 100
        if share < 5:
            break
        try:
            cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        rows.append(f"{share:.0f}% of a core: {cmd[:100]}")
    return rows


def git_state():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
        changed = len([line for line in dirty.splitlines() if line.strip()])
        return f"{rev}" + (f" + {changed} uncommitted change(s) under src/ (measured as they were)" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, Ratio):
        return str(v)
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(rows, columns):
    head = "| " + " | ".join(title for title, _key in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(key(r) if callable(key) else r.get(key)) for _title, key in columns) + " |" for r in rows]
    return "\n".join([head, sep] + body)


LOAD_COLUMNS = [("scenario", "scenario"), ("clients", "clients"), ("requests", "requests"), ("req/s", "req_s"),
                ("p50 ms", "p50_ms"), ("p90 ms", "p90_ms"), ("p99 ms", "p99_ms"), ("max ms", "max_ms"),
                ("errors", "errors"), ("KB/resp", "kb_per_response"), ("server CPU ms/req", "server_cpu_ms_per_req")]


class Ratio(float):
    def __str__(self):
        return f"{self:.2f}"


def ratio(a, b):
    return Ratio(a / b) if a and b else None


def report(data):
    m, res = data["machine"], data["results"]
    search10 = {r["scenario"]: r for r in res["search"] if r["clients"] == CLIENTS}
    pages = {(r["scenario"], r["clients"]): r for r in res["pages"]}
    fin = search10["finserv @policies?q="]
    search_pass = fin["p90_ms"] is not None and fin["p90_ms"] < 300 and fin["errors"] == 0
    page_ratio = ratio(pages[("Policy page (HTML)", 1)]["p50_ms"], pages[("Document page (HTML)", 1)]["p50_ms"])
    page_ratios = {
        "1 client p50": page_ratio,
        "1 client p90": ratio(pages[("Policy page (HTML)", 1)]["p90_ms"], pages[("Document page (HTML)", 1)]["p90_ms"]),
        "1 client mean": ratio(pages[("Policy page (HTML)", 1)]["mean_ms"], pages[("Document page (HTML)", 1)]["mean_ms"]),
        f"{CLIENTS} clients p50": ratio(pages[("Policy page (HTML)", CLIENTS)]["p50_ms"], pages[("Document page (HTML)", CLIENTS)]["p50_ms"]),
        f"{CLIENTS} clients p90": ratio(pages[("Policy page (HTML)", CLIENTS)]["p90_ms"], pages[("Document page (HTML)", CLIENTS)]["p90_ms"]),
        "server CPU per page (1 client)": ratio(pages[("Policy page (HTML)", 1)]["server_cpu_ms_per_req"], pages[("Document page (HTML)", 1)]["server_cpu_ms_per_req"]),
        f"server CPU per page ({CLIENTS} clients)": ratio(pages[("Policy page (HTML)", CLIENTS)]["server_cpu_ms_per_req"], pages[("Document page (HTML)", CLIENTS)]["server_cpu_ms_per_req"]),
    }
    cpu_ratio = page_ratios["server CPU per page (1 client)"]
    page_pass = page_ratio is not None and page_ratio <= 1.3
    cpu_pass = cpu_ratio is not None and cpu_ratio <= 1.3
    page_verdict = "PASS" if page_pass and cpu_pass else "FAIL" if not page_pass and not cpu_pass else (
        "UNCLEAR (latency and CPU disagree: noise)")
    rec = data["recall"]
    tot = {k: sum(r[k] for r in rec if isinstance(r[k], int)) for k in ("truth", "finserv", "vanilla_raw", "vanilla_norm")}
    tot_rel = {k: sum(r[f"{k}_found_relevant"] or 0 for r in rec) for k in ("finserv", "vanilla_raw", "vanilla_norm")}
    more = [r["query"] for r in rec if isinstance(r["vanilla_raw"], int) and isinstance(r["finserv"], int) and r["vanilla_raw"] > r["finserv"]]
    zero_v = [r["query"] for r in rec if r["vanilla_raw"] == 0 and (r["finserv"] or 0) > 0]

    lines = [START, "## Chinese search, recall and page rendering: finserv beside vanilla Plone", ""]
    lines += [f"Produced by `make bench` (`benchmarks/run_all.py`) on {m['date']}. Do not edit by hand: the next run replaces",
              "everything between the markers.", ""]
    lines += ["### Verdict", ""]
    lines += [f"- **Search p90 < 300 ms at {CLIENTS} clients: {'PASS' if search_pass else 'FAIL'}** — finserv "
              f"`@policies?q=` p90 {fmt(fin['p90_ms'])} ms (p50 {fmt(fin['p50_ms'])}, p99 {fmt(fin['p99_ms'])}, "
              f"{fmt(fin['req_s'])} req/s, {fin['errors']} errors) over {N:,} policies; vanilla `@search` with the "
              f"same queries as typed: p90 {fmt(search10['vanilla @search, query as typed']['p90_ms'])} ms."]
    lines += [f"- **Policy page ≤ 1.3x vanilla Document page: {page_verdict}** — judged on 1 client (render time without "
              f"queueing), by latency and by the server's CPU per page, both of which must be ≤ 1.3: p50 ratio "
              f"{fmt(page_ratio)} (policy {fmt(pages[('Policy page (HTML)', 1)]['p50_ms'])} ms, document "
              f"{fmt(pages[('Document page (HTML)', 1)]['p50_ms'])} ms), CPU ratio {fmt(cpu_ratio)} (policy "
              f"{fmt(pages[('Policy page (HTML)', 1)]['server_cpu_ms_per_req'])} ms, document "
              f"{fmt(pages[('Document page (HTML)', 1)]['server_cpu_ms_per_req'])} ms). All ratios: "
              + ", ".join(f"{k} {fmt(v)}" for k, v in page_ratios.items()) + "."]
    lines += [f"- **Recall:** over the {len(rec)} queries finserv found {tot['finserv']:,} policies (status=all), vanilla "
              f"{tot['vanilla_raw']:,} with the queries as typed — **{tot['finserv'] - tot['vanilla_raw']:,} fewer** "
              f"({(1 - tot['vanilla_raw'] / tot['finserv']) * 100 if tot['finserv'] else 0:.0f}% fewer), and {tot['vanilla_norm']:,} "
              f"when given finserv's normalised query. Relevant hits (ground truth {tot['truth']:,}): finserv "
              f"{tot_rel['finserv']:,}, vanilla {tot_rel['vanilla_raw']:,} (as typed) / {tot_rel['vanilla_norm']:,} (normalised). "
              f"Vanilla finds nothing at all for: {'、'.join(zero_v) or 'none'}. "
              f"Vanilla finds more than finserv for: {'、'.join(more) or 'no query'}."]
    for rk in data["ranking"]:
        lines += [f"- **Ranking, `{rk['query']}`** (target {rk['target']}): finserv rank {fmt(rk['finserv']['rank'])} of "
                  f"{fmt(rk['finserv']['of'])}; vanilla rank {fmt(rk['vanilla_raw']['rank'])} of {fmt(rk['vanilla_raw']['of'])} "
                  f"as typed, {fmt(rk['vanilla_norm']['rank'])} of {fmt(rk['vanilla_norm']['of'])} normalised."]
    lines += [""]

    lines += ["### Machine and setup", ""]
    lines += [table([{"k": k, "v": v} for k, v in m.items()], [("fact", "k"), ("value", "v")]), ""]
    lines += [f"- One Zope process (runwsgi, waitress {data['config']['waitress_threads']} threads, ZODB cache "
              f"{data['config']['zodb_cache_size']} objects, FileStorage), generated from `instance/*.in` into "
              f"`benchmarks/var/`, port {PORT}. Two sites in it: `/finserv` (finserv:default, zh-cn, Asia/Shanghai, "
              f"no demo profile) with {N:,} published Policy objects in `/finserv/policies`; `/vanilla` (plone.app.contenttypes, "
              f"plone.app.layout, plonetheme.barceloneta, plone.restapi; zh-cn) with {N:,} published Documents in `/vanilla/docs` "
              "holding the same title, description and body (generated by `benchmarks/corpus.py`, seeded, so every run has "
              "the same content)."]
    lines += ["- So that the pages are compared like for like, the vanilla site gets what finserv does that changes what "
              "a page costs, and nothing else: an empty theming hostname blacklist (Plone leaves pages on 127.0.0.1 "
              "unthemed by default; finserv's profile clears the list, so both sites' pages go through Diazo), "
              "navigation depth 1 (finserv's setting; Plone's 3 would put folder contents into every page's global "
              "navigation), and `Document` left out of `plone.displayed_types`, as finserv leaves out `Policy` "
              "(otherwise the navigation portlet of every Document page queries its 10,000 siblings: measured "
              "separately below, for information). The vanilla Documents are also each excluded from navigation. "
              "While the vanilla documents are created, CMFEditions' automatic initial version is off (it is "
              "switched on again afterwards; it cost a third of the vanilla build and changes neither pages nor search)."]
    pc = data["page_check"]
    lines += [f"- Page check: policy page {pc['policy']['kb']} KB themed={pc['policy']['themed']} "
              f"nav-links={pc['policy']['nav_links']}; document page {pc['document']['kb']} KB themed={pc['document']['themed']} "
              f"nav-links={pc['document']['nav_links']}."]
    lines += [f"- Load: this process, 127.0.0.1, closed loop (each client sends its next request when the last is "
              f"answered), Python threads with `requests` keep-alive sessions. Paired scenarios are interleaved "
              f"A,B,A,B… ({ROUNDS} slices each, {SECONDS / ROUNDS:.0f} s per slice for the 20 s scenarios). The load generator shares the {m['nproc']} cores with the server, "
              "so absolute req/s is lower than from a separate machine; the comparisons are same-run. "
              "`server CPU ms/req` is the server process's user+system CPU over the run divided by requests: "
              "less sensitive to noise than wall-clock latency."]
    lines += [f"- Server memory after the runs: {data.get('server_memory')}."]
    lines += [f"- Noise: load average {m['load average at start (1/5/15 min)']} at the start and {data.get('load_end')} at the end "
              "of the load phase (the load generator and the server account for up to 2 of it). Other processes using "
              "at least 5% of a core in a 2 s sample when the load phase began: "
              + ("; ".join(f"`{n}`" for n in data["noise"]) or "none")
              + "; when it ended: " + ("; ".join(f"`{n}`" for n in data.get("noise_end") or []) or "none") + "."]
    lines += ["", "### Phases (wall time)", ""]
    lines += [table([{"k": k, "v": round(v, 1)} for k, v in data["phases"].items()], [("phase", "k"), ("seconds", "v")]), ""]
    if data.get("build_timings"):
        lines += ["Building the sites (the run that built them; later runs reuse them):", ""]
        lines += [table([{"k": k, "v": round(v, 1)} for k, v in data["build_timings"].items()], [("step", "k"), ("seconds (or count)", "v")]), ""]
        fills = [(k, v) for k, v in data["build_timings"].items() if k.startswith("fill") and not k.endswith("created")]
        for key, secs in fills:
            count = data["build_timings"].get(f"{key}: objects created")
            if count and secs:
                lines += [f"- {key}: {count / secs:.0f} objects/s (create with plone.api, workflow transitions, catalog, "
                          f"commit every 500)."]
        lines += [""]
    if data.get("last_build_timings"):
        lines += ["This run's build step: " + ", ".join(f"{k} {v:.1f}" for k, v in data["last_build_timings"].items()) + ".", ""]

    lines += ["### Search latency", "",
              f"`GET /finserv/@policies?q=<query>` (anonymous, default filters: current policies, 20 per page) beside "
              f"`GET /vanilla/@search?SearchableText=<query>&b_size=20`, cycling over the {len(rec)} queries below; "
              "vanilla once with the query exactly as typed (what plone.restapi passes to the catalog) and once with "
              "the query finserv's `text_query` makes of it.", ""]
    lines += [table(res["search"], LOAD_COLUMNS), ""]
    lines += [f"Per query, {CLIENTS} clients (latency includes queueing behind the other clients' requests):", ""]
    lines += [table(data["per_query"], [("query", "query"), ("finserv p50", "finserv_p50"), ("finserv p90", "finserv_p90"),
                                       ("vanilla p50", "vanilla_raw_p50"), ("vanilla p90", "vanilla_raw_p90")]), ""]

    lines += ["### Recall", "",
              "Hits per query: finserv `@policies?status=all` items_total; vanilla `@search` items_total with the query as "
              "typed and with finserv's normalised query. *Truth* = policies whose visible text (title, summary, body and "
              "the facts the policy page shows: 文号, 发文机关, level, topics, sizes, districts, industries) contains every "
              "part of the query (parts split at spaces and 、，；：); *text-only truth* = the same over title, summary and "
              "body, all the vanilla Documents hold. Recall / precision are measured against *truth* from the ordered hit "
              "lists of both catalogs (queried in-process, anonymous, same query).", ""]
    lines += [table(rec, [
        ("query", "query"), ("normalised", "normalised"), ("truth", "truth"), ("text-only truth", "truth_text_only"),
        ("finserv", "finserv"), ("vanilla as typed", "vanilla_raw"), ("vanilla normalised", "vanilla_norm"),
        ("vanilla fewer", lambda r: (r["finserv"] - r["vanilla_raw"]) if isinstance(r["finserv"], int) and isinstance(r["vanilla_raw"], int) else None),
        ("finserv recall/precision", lambda r: f"{fmt(r['finserv_recall'])} / {fmt(r['finserv_precision'])}"),
        ("vanilla recall/precision", lambda r: f"{fmt(r['vanilla_raw_recall'])} / {fmt(r['vanilla_raw_precision'])}"),
        ("first 20 relevant: finserv / vanilla", lambda r: f"{fmt(r['finserv_p_at_20'])} / {fmt(r['vanilla_raw_p_at_20'])}"),
    ]), ""]
    lines += [f"Totals: truth {tot['truth']:,}; finserv {tot['finserv']:,}; vanilla as typed {tot['vanilla_raw']:,} "
              f"({tot['finserv'] - tot['vanilla_raw']:,} fewer than finserv); vanilla normalised {tot['vanilla_norm']:,}.", ""]

    lines += ["*first 20 relevant* = share of the first 20 hits (relevance order, what a reader sees first) that are in *truth*.", ""]
    lines += ["### Ranking", ""]
    for rk in data["ranking"]:
        lines += [f"`{rk['query']}` — target {rk['target']}", ""]
        rows = []
        for key, label in (("finserv", "finserv"), ("vanilla_raw", "vanilla, as typed"), ("vanilla_norm", "vanilla, normalised")):
            rows.append({"site": label, "rank": rk[key]["rank"], "of": rk[key]["of"],
                         "title": rk[key]["title_hits_top10"], "top": " · ".join(rk[key]["top5"][:3])})
        lines += [table(rows, [("site", "site"), ("rank of target", "rank"), ("hits", "of"),
                               ("top 10 with the query in the title", "title"), ("top 3", "top")]), ""]

    lines += ["### Page rendering", "",
              f"Anonymous `GET` of {PAGE_SAMPLE} published Policy pages (`/finserv/policies/pNNNNN`, PolicyView) and the "
              f"{PAGE_SAMPLE} vanilla Documents with the same ids and text (`/vanilla/docs/pNNNNN`, document_view), "
              "both themed by Diazo with barceloneta.", ""]
    lines += [table(res["pages"], LOAD_COLUMNS), ""]
    lines += [table([{"k": k, "v": v} for k, v in page_ratios.items()], [("policy / document", "k"), ("ratio", "v")]), ""]
    if res.get("pages_info"):
        info = res["pages_info"][0]
        lines += [f"For information, not the criterion: the same Document pages with `Document` put back into "
                  f"`plone.displayed_types` (Plone's default; the documents stay excluded from navigation one by one), "
                  f"so that each page's navigation portlet queries its {N:,} siblings and filters them in Python:", ""]
        lines += [table(res["pages_info"], LOAD_COLUMNS), ""]
        doc1 = pages[("Document page (HTML)", 1)]
        lines += [f"That is {fmt(ratio(info['server_cpu_ms_per_req'], doc1['server_cpu_ms_per_req']))}x the CPU per page of "
                  "the like-for-like Document page above; a policy page never pays it, since Policy is not a displayed type.", ""]
    lines += ["### REST GET of one object", "", "`GET` with `Accept: application/json` of the same pages.", ""]
    lines += [table(res["rest"], LOAD_COLUMNS), ""]

    lines += ["### Reproduce", "",
              "```", "make bench                                   # or: .venv/bin/python benchmarks/run_all.py",
              ".venv/bin/python benchmarks/run_all.py --rebuild   # discard benchmarks/var/ sites and build again",
              "BENCH_VAR=/tmp/bench-smoke BENCH_N=500 BENCH_SECONDS=4 BENCH_PORT=8093 .venv/bin/python benchmarks/run_all.py --no-readme   # smoke run",
              "# (a different BENCH_N in the same BENCH_VAR rebuilds its sites; keep the 10,000-object sites in benchmarks/var)",
              "```", "",
              "Files: `corpus.py` (seeded generator, queries, ground truth), `build_sites.py` (zconsole script that builds "
              "the two sites and collects the in-process hit lists), `load.py` (closed-loop load driver), `run_all.py` "
              "(everything else). The first run builds the sites (most of its time); later runs reuse them. The raw "
              "numbers of the last run are in `benchmarks/var/results.json`.", END]
    return "\n".join(lines), search_pass, page_verdict


def write_readme(section):
    text = README.read_text() if README.exists() else "# Benchmarks\n\nReproducible load and throughput scripts, and the results they produced.\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(text)


# --- main ----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="discard the sites in benchmarks/var and build them again")
    parser.add_argument("--no-readme", action="store_true", help="print the report only")
    args = parser.parse_args()
    t_all = time.time()
    data = {"machine": machine()}
    log(f"machine: {data['machine']}")
    with phase("instance config"):
        data["config"] = write_config()
        existed = check_manifest(args.rebuild)
    with phase("build sites" + (" (reusing existing)" if existed else " (from scratch)")):
        data["last_build_timings"] = build()
        path = VAR / "build-timings.json"
        data["build_timings"] = json.loads(path.read_text()) if path.exists() else {}
    hits = json.loads((VAR / "hits.json").read_text())
    records = corpus.policies(N)
    with phase("start instance"):
        proc = start_server()
    try:
        cpu = load.ServerCPU(proc.pid)
        with phase("recall and ranking"):
            data["recall"] = recall(records, hits)
            data["ranking"] = ranking(records, hits)
        for row in data["recall"]:
            log(f"   {row['query']}: truth {row['truth']} finserv {row['finserv']} vanilla {row['vanilla_raw']} / {row['vanilla_norm']}")
        data["noise"] = busy_processes(own=(proc.pid,))
        if data["noise"]:
            log(f"other processes using CPU: {data['noise']}")
        results, data["per_query"], data["warmups"], data["page_check"] = scenarios(records, cpu)
        data["results"] = {group: [r.row() for r in rs] for group, rs in results.items()}
        data["server_memory"] = cpu.memory()
        data["noise_end"] = busy_processes(own=(proc.pid,))
        data["load_end"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        with phase("stop instance"):
            stop_server(proc)
    PHASES["total"] = time.time() - t_all
    data["phases"] = PHASES
    (VAR / "results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    section, search_pass, page_pass = report(data)
    print()
    print(section)
    if not args.no_readme:
        write_readme(section)
        log(f"results written to {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
