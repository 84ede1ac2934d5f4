"""Rotate the SM4 data key and re-encrypt everything stored under older keys.

    make rotate-keys            (stop the embedded instance first; with ZEO, run any time)

1. a new SM4 key version is created in the key directory and becomes current (old versions
   stay: they are needed until step 2 has finished, and for backups made before it);
2. every stored SM4 token (encrypted fields of content, and what other mechanisms register
   in ``finserv.core.sensitive.REENCRYPTORS``) is decrypted and encrypted again under the new
   key, in one transaction;
3. the rotation is recorded in the audit trail.
Run with ``--dry-run`` to count what would be re-encrypted without rotating.
"""

from AccessControl.SecurityManagement import newSecurityManager
from finserv.core import crypto
from finserv.core import sensitive
from finserv.core.audit import record
from Testing.makerequest import makerequest
from zope.component.hooks import setSite

import os
import sys
import transaction


def main(app, argv):
    app = makerequest(app)
    site = app[os.environ.get("SITE_ID", "finserv")]
    setSite(site)
    admin = app.acl_users.getUser("admin")
    newSecurityManager(None, admin.__of__(app.acl_users))
    dry_run = "--dry-run" in argv
    old = crypto.get_keyring().current_sm4_version
    if dry_run:
        count = sum(1 for _ in site.portal_catalog._catalog.indexes["sensitive_blind_index"].documentToKeyMap())
        print(f"{count} 个对象含加密字段；当前密钥版本 {old}。 / {count} objects hold encrypted fields; key version {old}.")
        return 0
    new = crypto.rotate_sm4_key()
    count = sum(reencrypt(site) for reencrypt in sensitive.REENCRYPTORS)
    record("crypto.key_rotated", target=f"sm4:{old}->{new}", details={"reencrypted": count}, actor="admin")
    transaction.commit()
    print(f"SM4 密钥已从版本 {old} 轮换到 {new}，重新加密 {count} 个值。 / Rotated SM4 key {old} -> {new}; re-encrypted {count} values.")
    return 0


sys.exit(main(app, sys.argv[1:]))  # noqa: F821 — `app` is provided by zconsole run
