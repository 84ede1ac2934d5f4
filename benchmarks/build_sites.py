"""Build (or complete) the two benchmark sites; run with ``zconsole run`` by run_all.py.

    BENCH_VAR=benchmarks/var BENCH_N=10000 .venv/bin/zconsole run benchmarks/var/etc/zope.conf benchmarks/build_sites.py

- ``/finserv``: created as src/finserv/portal/create_site.py does (finserv:default, zh-cn,
  Asia/Shanghai), without the demo profile, filled with BENCH_N published Policy objects
  in /finserv/policies (submit, then publish, through the workflow).
- ``/vanilla``: a plain Plone 6.2.2 site (plone.app.contenttypes, plone.app.layout,
  plonetheme.barceloneta, plone.restapi; zh-cn), filled with BENCH_N published Documents in
  /vanilla/docs holding the same title, description and body text, under the same ids.

Creation is resumable: objects that exist are skipped, so an interrupted build continues where
it stopped. It commits every BENCH_COMMIT_EVERY objects and prints progress.

Afterwards (every run, content or not) it queries both catalogs in-process for each benchmark
query and writes the ordered hit ids to $BENCH_VAR/hits.json, so the report can compare them
with the ground truth (precision and recall), which item counts alone cannot show.
"""

from AccessControl.SecurityManagement import newSecurityManager
from pathlib import Path
from Testing.makerequest import makerequest
from zope.component.hooks import setSite

import json
import os
import secrets
import sys
import time
import transaction

HERE = Path(os.environ.get("BENCH_DIR", "benchmarks")).resolve()  # zconsole run sets no __file__
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

VAR = Path(os.environ.get("BENCH_VAR", HERE / "var"))
N = int(os.environ.get("BENCH_N", "10000"))
COMMIT_EVERY = int(os.environ.get("BENCH_COMMIT_EVERY", "500"))
TIMINGS = {}


def log(msg):
    print(f"[build {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ensure_admin(app):
    path = VAR / "admin-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    acl = app.acl_users
    if "admin" not in acl.getUserNames():
        acl._doAddUser("admin", path.read_text().strip(), ["Manager"], [])
    newSecurityManager(None, acl.getUser("admin").__of__(acl))


def ensure_sites(app):
    from Products.CMFPlone.factory import addPloneSite

    if "finserv" not in app.objectIds():
        t0 = time.time()
        addPloneSite(
            app, "finserv", title="上海金融综合服务平台", extension_ids=["finserv:default"],
            default_language="zh-cn", portal_timezone="Asia/Shanghai",
        )
        transaction.commit()
        TIMINGS["create finserv site"] = time.time() - t0
        log(f"created /finserv in {TIMINGS['create finserv site']:.1f}s")
    if "vanilla" not in app.objectIds():
        t0 = time.time()
        addPloneSite(
            app, "vanilla", title="Vanilla Plone",
            extension_ids=["plone.app.contenttypes:default", "plone.app.layout:default",
                           "plonetheme.barceloneta:default", "plone.restapi:default"],
            default_language="zh-cn",
        )
        site = app["vanilla"]
        setSite(site)
        from plone import api

        folder = api.content.create(container=site, type="Folder", id="docs", title="Library")
        api.content.transition(obj=folder, transition="publish")
        transaction.commit()
        TIMINGS["create vanilla site"] = time.time() - t0
        log(f"created /vanilla in {TIMINGS['create vanilla site']:.1f}s")


VANILLA_DISPLAYED_TYPES = ("Link", "News Item", "Folder", "Event", "Collection")  # Plone's, minus Document


def ensure_vanilla_settings(app):
    """Level playing field for page rendering: what finserv does that changes what a page costs.

    - Plone leaves pages *unthemed* on 127.0.0.1 by default; finserv's profile empties that
      list, so its pages go through Diazo. Same here.
    - finserv's navigation depth is 1 (Plone's 3 would put folder contents into the global
      navigation of every page).
    - finserv keeps Policy out of ``plone.displayed_types``, so the navigation portlet of a policy
      page never queries its 10,000 siblings. A Document page in a folder of 10,000 Documents
      does (and excluding each from navigation, as build does too, only filters them after the
      query): run_all.py measures that case separately, for information.
    Idempotent; run on every build so that reused sites get the current settings.
    """
    from plone import api

    setSite(app["vanilla"])
    wanted = {
        "plone.app.theming.interfaces.IThemeSettings.hostnameBlacklist": [],
        "plone.navigation_depth": 1,
        "plone.displayed_types": VANILLA_DISPLAYED_TYPES,
    }
    for name, value in wanted.items():
        if api.portal.get_registry_record(name) != type(api.portal.get_registry_record(name))(value):
            api.portal.set_registry_record(name, value)
    transaction.commit()


def fill(app, site_id, container_path, make):
    from plone import api

    site = app[site_id]
    setSite(site)
    container = site.unrestrictedTraverse(container_path)
    records = corpus.policies(N)
    existing = set(container.objectIds())
    todo = [r for r in records if r["id"] not in existing]
    if not todo:
        log(f"/{site_id}/{container_path}: all {N} objects exist")
        return
    log(f"/{site_id}/{container_path}: {len(existing)} exist, creating {len(todo)}")
    t0 = last = time.time()
    batch = 0
    for i, record in enumerate(todo, 1):
        make(api, container, record)
        batch += 1
        if batch == COMMIT_EVERY or i == len(todo):
            transaction.commit()
            now = time.time()
            log(f"  {site_id}: {i}/{len(todo)} ({batch / max(now - last, 1e-9):.0f}/s last batch, {now - t0:.0f}s so far)")
            last, batch = now, 0
    app._p_jar.cacheGC()
    TIMINGS[f"fill {site_id}"] = time.time() - t0
    TIMINGS[f"fill {site_id}: objects created"] = len(todo)


def rich(html):
    from plone.app.textfield.value import RichTextValue

    return RichTextValue(html, "text/html", "text/x-html-safe")


def make_policy(api, container, r):
    obj = api.content.create(
        container=container, type="Policy", id=r["id"], title=r["title"], description=r["description"],
        text=rich(r["text"]), doc_number=r["doc_number"], issuing_authority=r["issuing_authority"],
        level=r["level"], publish_date=r["publish_date"], valid_from=r["valid_from"], valid_to=r["valid_to"],
        topics=r["topics"], industries=r["industries"], enterprise_sizes=r["enterprise_sizes"],
        districts=r["districts"],
    )
    api.content.transition(obj=obj, transition="submit")
    api.content.transition(obj=obj, transition="publish")


def make_document(api, container, r):
    # Out of the navigation, as finserv keeps its policies (Policy is not a displayed type):
    # otherwise every Document page would list its 10,000 siblings in the navigation portlet.
    obj = api.content.create(
        container=container, type="Document", id=r["id"], title=r["title"], description=r["description"],
        text=rich(r["text"]), exclude_from_nav=True,
    )
    api.content.transition(obj=obj, transition="publish")


def collect_hits(app):
    """Ordered ids of every hit, per query, in both sites (as anonymous readers would get them)."""
    from AccessControl.SecurityManagement import noSecurityManager
    from finserv.core.search import text_query
    from finserv.portal.policysearch import policy_query
    from finserv.portal.policysearch import search
    from plone import api

    noSecurityManager()  # anonymous, as the benchmark's readers
    out = {}
    for query, _why in corpus.QUERIES:
        row = {}
        setSite(app["finserv"])
        q = policy_query({"q": query, "status": "all"})
        if q is None:
            row["finserv"] = []
        else:
            q["b_size"] = 10**6  # every hit, in the order @policies returns them
            row["finserv"] = [b.getId for b in search(q)]
        setSite(app["vanilla"])
        catalog = app["vanilla"].portal_catalog
        path = "/vanilla/docs"
        for key, text in (("vanilla_raw", query.replace("(", " ").replace(")", " ").strip()), ("vanilla_norm", text_query(query))):
            try:
                row[key] = [b.getId for b in catalog.searchResults(SearchableText=text, portal_type="Document", path=path)]
            except Exception as error:  # a query the index cannot parse
                row[key] = {"error": f"{type(error).__name__}: {error}"}
        out[query] = row
    return out


def main(app):
    app = makerequest(app)
    app.REQUEST["HTTP_ACCEPT_LANGUAGE"] = "zh-cn"
    ensure_admin(app)
    t0 = time.time()
    ensure_sites(app)
    ensure_vanilla_settings(app)
    fill(app, "finserv", "policies", make_policy)
    # Vanilla Plone saves an initial CMFEditions version of every new Document (Policy is not
    # versioned). That costs a third of the vanilla build and changes neither page rendering nor
    # search, so it is switched off while the documents are created and switched on again.
    setSite(app["vanilla"])
    repository = app["vanilla"].portal_repository
    autoversion = "at_edit_autoversion" in repository.getPolicyMap().get("Document", [])
    if autoversion:
        repository.removePolicyFromContentType("Document", "at_edit_autoversion")
    try:
        fill(app, "vanilla", "docs", make_document)
    finally:
        if autoversion:
            repository.addPolicyForContentType("Document", "at_edit_autoversion")
            transaction.commit()
    TIMINGS["build total"] = time.time() - t0
    t1 = time.time()
    hits = collect_hits(app)
    TIMINGS["in-process hit collection"] = time.time() - t1
    transaction.abort()
    (VAR / "hits.json").write_text(json.dumps(hits, ensure_ascii=False))
    (VAR / "last-run-timings.json").write_text(json.dumps(TIMINGS, ensure_ascii=False, indent=1))
    if any(k.startswith(("create", "fill")) for k in TIMINGS):  # something was built: keep its cost
        path = VAR / "build-timings.json"
        kept = json.loads(path.read_text()) if path.exists() else {}
        for key, value in TIMINGS.items():
            kept[key] = kept.get(key, 0) + value if key.startswith("fill") or key == "build total" else value
        path.write_text(json.dumps(kept, ensure_ascii=False, indent=1))
    log("done: " + ", ".join(f"{k} {v:.1f}s" if isinstance(v, float) else f"{k} {v}" for k, v in TIMINGS.items()))


main(app)  # noqa: F821 — `app` is provided by zconsole run
