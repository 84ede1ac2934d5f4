"""In-Zope helper of cluster_bench.py; run with ``zconsole run <zope.conf> benchmarks/cluster_zope.py``.

CB_MODE=setup (default): idempotently
- creates /vanilla (plain Plone 6.2.2: plone.app.contenttypes, plone.app.layout, barceloneta,
  plone.restapi; zh-cn; themed on 127.0.0.1 and navigation depth 1, like build_sites.py) with a
  published Document ``bench-page``;
- creates the member CB_USER (password CB_PASSWORD) in both sites, in group ``public`` in
  finserv (a plain public member: no second factor);
- creates one private Folder per write scenario (CB_FOLDERS, comma separated ids) in
  /<site>/bench-writes, with Contributor for the member;
- writes {policy path, ...} to CB_OUT as JSON.
CB_MODE=count: writes {folder path: {"objects": n, "catalog": n}} for every folder in
/<site>/bench-writes to CB_OUT.
"""

from AccessControl.SecurityManagement import newSecurityManager
from Testing.makerequest import makerequest
from zope.component.hooks import setSite

import json
import os
import transaction

MODE = os.environ.get("CB_MODE", "setup")
OUT = os.environ["CB_OUT"]
USER = os.environ.get("CB_USER", "benchmember")
PASSWORD = os.environ.get("CB_PASSWORD", "")
FOLDERS = [f for f in os.environ.get("CB_FOLDERS", "").split(",") if f]
SITES = ("finserv", "vanilla")


def as_admin(app):
    acl = app.acl_users
    newSecurityManager(None, acl.getUser("admin").__of__(acl))


def ensure_vanilla(app):
    from plone import api
    from Products.CMFPlone.factory import addPloneSite

    if "vanilla" not in app.objectIds():
        addPloneSite(
            app, "vanilla", title="Vanilla Plone",
            extension_ids=["plone.app.contenttypes:default", "plone.app.layout:default",
                           "plonetheme.barceloneta:default", "plone.restapi:default"],
            default_language="zh-cn",
        )
        transaction.commit()
    site = app["vanilla"]
    setSite(site)
    api.portal.set_registry_record("plone.app.theming.interfaces.IThemeSettings.hostnameBlacklist", [])
    api.portal.set_registry_record("plone.navigation_depth", 1)
    if "bench-page" not in site.objectIds():
        from plone.app.textfield.value import RichTextValue

        text = "<p>" + "上海金融综合服务平台，政策发布与解读。" * 40 + "</p>"
        doc = api.content.create(container=site, type="Document", id="bench-page", title="基准测试页面",
                                 description="普通文档页面", text=RichTextValue(text, "text/html", "text/x-html-safe"))
        api.content.transition(obj=doc, transition="publish")
    transaction.commit()


def ensure_member(site, group=None):
    from plone import api

    setSite(site)
    if api.user.get(username=USER) is None:
        api.user.create(email=f"{USER}@example.com", username=USER, password=PASSWORD,
                        properties={"fullname": "Bench Member"})
    if group and api.group.get(groupname=group) is not None:
        if group not in [g.getId() for g in api.group.get_groups(username=USER)]:
            api.group.add_user(groupname=group, username=USER)
    transaction.commit()


def ensure_folders(site):
    from plone import api

    setSite(site)
    if "bench-writes" not in site.objectIds():
        api.content.create(container=site, type="Folder", id="bench-writes", title="Bench writes")
    parent = site["bench-writes"]
    parent.manage_setLocalRoles(USER, ["Contributor"])
    parent.reindexObjectSecurity()
    for fid in FOLDERS:
        if fid not in parent.objectIds():
            api.content.create(container=parent, type="Folder", id=fid, title=fid)
        parent[fid].manage_setLocalRoles(USER, ["Contributor"])
        parent[fid].reindexObjectSecurity()
    transaction.commit()


def setup(app):
    ensure_vanilla(app)
    out = {}
    for sid in SITES:
        ensure_member(app[sid], group="public" if sid == "finserv" else None)
        ensure_folders(app[sid])
    setSite(app["finserv"])
    from plone import api

    brains = api.content.find(portal_type="Policy", review_state="published", sort_on="path", sort_limit=1)
    out["policy"] = brains[0].getPath() if brains else None
    out["vanilla_page"] = "/vanilla/bench-page"
    return out


def count(app):
    out = {}
    for sid in SITES:
        site = app[sid]
        setSite(site)
        parent = site.get("bench-writes")
        if parent is None:
            continue
        for fid in parent.objectIds():
            folder = parent[fid]
            path = "/".join(folder.getPhysicalPath())
            catalog = len(site.portal_catalog.unrestrictedSearchResults(path={"query": path, "depth": 1}))
            out[path] = {"objects": len(folder.objectIds()), "catalog": catalog}
    return out


def main(app):
    app = makerequest(app)
    app.REQUEST["HTTP_ACCEPT_LANGUAGE"] = "zh-cn"
    as_admin(app)
    result = setup(app) if MODE == "setup" else count(app)
    transaction.abort()
    with open(OUT, "w") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    print(f"cluster_zope {MODE}: {result if MODE == 'setup' else len(result)}")


main(app)  # noqa: F821 — `app` is provided by zconsole run
