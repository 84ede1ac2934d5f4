"""Verify the audit trail of the site: every record's SM3 hash, every link, every SM2 checkpoint.

    zconsole run var/etc/zope.conf src/finserv/core/verify_audit.py [--checkpoint] [--install]

The site is ``SITE_ID`` (default ``finserv``); keys come from ``FINSERV_KEY_DIR`` and the
checkpoints file from ``FINSERV_AUDIT_CHECKPOINTS`` as for the running instance. Prints the
result in Chinese and English; exit status 0 when the chain is intact, 1 when a record was
altered, removed or inserted or a checkpoint is bad, 2 when there is nothing to verify.

``--checkpoint`` first signs the current head (and commits); ``--install`` first creates the
audit store on a site that was created before the audit trail existed.
"""

from __future__ import annotations

import os
import sys


def main(app, site_id: str | None = None, argv=(), out=None) -> int:
    import transaction
    from AccessControl.SecurityManagement import newSecurityManager
    from AccessControl.users import system
    from zope.component.hooks import setSite

    from finserv.core.audit import checkpoint
    from finserv.core.audit import get_store
    from finserv.core.audit import verify_chain

    out = out or sys.stdout
    site_id = site_id or os.environ.get("SITE_ID", "finserv")
    site = app.unrestrictedTraverse(site_id, None)
    if site is None:
        print(f"找不到站点 /{site_id} / site /{site_id} not found (set SITE_ID)", file=out)
        return 2
    setSite(site)
    newSecurityManager(None, system)
    if "--install" in argv:
        from finserv.core.audit.setup import install_audit

        install_audit(site)
        transaction.commit()
    store = get_store(site)
    if store is None:
        print(
            f"站点 /{site_id} 尚未启用审计日志（重新安装 finserv 或加 --install）/"
            f" the audit trail is not installed on /{site_id} (reinstall finserv or pass --install)",
            file=out,
        )
        return 2
    if "--checkpoint" in argv:
        cp = checkpoint(store, portal=site, reason="on_demand")
        transaction.commit()
        if cp is not None:
            print(f"已签名检查点 / signed checkpoint #{cp['sequence']} {cp['head_hash']}", file=out)
    result = verify_chain(store)
    print(f"站点 / site: /{site_id}   链标识 / chain: {store.chain_id}", file=out)
    print(result.report(), file=out)
    transaction.abort()
    return 0 if result.ok else 1


def _script_args() -> list[str]:
    """Arguments after this script's path (zconsole leaves its own arguments in sys.argv)."""
    for index, arg in enumerate(sys.argv):
        if arg.endswith("verify_audit.py"):
            return sys.argv[index + 1 :]
    return []


if __name__ == "__main__":
    sys.exit(main(app, argv=_script_args()))  # noqa: F821 — `app` is provided by zconsole run
