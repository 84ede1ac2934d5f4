"""Create the finserv site if it does not exist yet (run with `zconsole run`, see Makefile).

Also ensures the Zope administrator: its password is generated on first start and kept in
var/admin-password, unless ADMIN_PASSWORD is set on that first start.
"""

from pathlib import Path
from Testing.makerequest import makerequest
from AccessControl.SecurityManagement import newSecurityManager

import os
import secrets
import transaction

SITE_ID = os.environ.get("SITE_ID", "finserv")
VAR = Path(os.environ.get("FINSERV_VAR", "var"))


def admin_password() -> str:
    path = VAR / "admin-password"
    if path.exists():
        return path.read_text().strip()
    password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def main(app):
    app = makerequest(app)
    acl = app.acl_users
    password = admin_password()
    if "admin" not in acl.getUserNames():
        acl._doAddUser("admin", password, ["Manager"], [])
    admin = acl.getUser("admin").__of__(acl)
    newSecurityManager(None, admin)
    if SITE_ID in app.objectIds():
        print(f"Site /{SITE_ID} exists: reusing it.")
        return
    from Products.CMFPlone.factory import addPloneSite

    site = addPloneSite(
        app,
        SITE_ID,
        title="上海金融综合服务平台",
        extension_ids=["finserv:default", "finserv:demo"],
        default_language="zh-cn",
        portal_timezone="Asia/Shanghai",
    )
    transaction.commit()
    print(f"Created site /{site.getId()} with demo content.")


main(app)  # noqa: F821 — `app` is provided by zconsole run
