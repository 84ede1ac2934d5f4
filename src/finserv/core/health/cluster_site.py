"""Run with ``zconsole run <zope-admin.conf>`` by the cluster before its clients start.

Creates the site if it is missing (the same code as ``make site``: portal/create_site.py),
then applies the caching settings and the purge target (FINSERV_PURGE_PROXY, set in the
cluster's zope.conf) to it. Idempotent: one Zope start for both.
"""

from pathlib import Path
from Testing.makerequest import makerequest
from zope.component.hooks import setSite

import finserv.portal
import os
import transaction

SITE_ID = os.environ.get("SITE_ID", "finserv")


def main(app):
    create_site = Path(finserv.portal.__file__).with_name("create_site.py")
    exec(compile(create_site.read_text(), str(create_site), "exec"), {"app": app, "__name__": "create_site"})
    app = makerequest(app)
    site = app[SITE_ID]
    setSite(site)
    from finserv.core.health.caching import install_caching

    install_caching(site)
    transaction.commit()
    print(f"Caching configured on /{SITE_ID} (purge: {os.environ.get('FINSERV_PURGE_PROXY') or 'unchanged'}).")


main(app)  # noqa: F821 — `app` is provided by zconsole run
