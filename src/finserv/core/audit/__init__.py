"""Audit trail (GB/T 39786-2021 level 3, 等保三级): append-only, SM3-chained, SM2-checkpointed.

The one call other code makes::

    from finserv.core.audit import record
    record("field.reveal", target="/".join(obj.getPhysicalPath()), details={"field": "id_number"})

``record`` writes into the current ZODB transaction (an aborted action leaves no record), takes
the actor from the security manager and the address from the request, and does nothing but
log a warning when no Plone site is active. Records are searched and exported in
``@@audit-log`` / ``GET @audit-log``; ``verify_chain`` (and ``make audit-verify``) checks them.
See :mod:`finserv.core.audit.store` for the storage layout and hash definition.
"""

from __future__ import annotations

import logging

from finserv.core.audit.store import ANNOTATION_KEY
from finserv.core.audit.store import AuditBucket
from finserv.core.audit.store import AuditStore
from finserv.core.audit.store import AuditTree
from finserv.core.audit.store import GENESIS_HASH
from finserv.core.audit.store import checkpoints_file
from finserv.core.audit.store import record_hash
from finserv.core.audit.verify import Problem
from finserv.core.audit.verify import VerifyResult
from finserv.core.audit.verify import verify_chain
from finserv.core.storage import site_storage

__all__ = [
    "ANNOTATION_KEY",
    "GENESIS_HASH",
    "PERMISSION",
    "AuditStore",
    "Problem",
    "VerifyResult",
    "checkpoint",
    "checkpoints_file",
    "client_address",
    "current_actor",
    "ensure_store",
    "get_store",
    "record",
    "record_hash",
    "search",
    "verify_chain",
]

logger = logging.getLogger("finserv.audit")

PERMISSION = "finserv: View audit log"
ANONYMOUS = "anonymous"
_SCANNED_KEY = "finserv.audit.scanned"


def _portal():
    """The Plone site of the current component site, or None."""
    from zope.component.hooks import getSite

    site = getSite()
    if site is None:
        return None
    from Acquisition import aq_chain
    from Products.CMFCore.interfaces import ISiteRoot

    for obj in aq_chain(site):
        if ISiteRoot.providedBy(obj):
            return obj
    return None


def get_store(portal=None) -> AuditStore | None:
    """The site's audit store, or None if the audit trail is not installed there."""
    return site_storage(portal if portal is not None else _portal(), ANNOTATION_KEY)


def ensure_store(portal) -> AuditStore:
    """Create the store on *portal* (with its first record, ``audit.started``) if missing."""
    from zope.annotation.interfaces import IAnnotations

    annotations = IAnnotations(portal)
    store = annotations.get(ANNOTATION_KEY)
    if store is None:
        store = annotations[ANNOTATION_KEY] = AuditStore()
        from zope.globalrequest import getRequest

        request = getRequest()
        address, peer = client_address(request)
        store.append(
            "audit.started",
            target=_path(portal),
            details={"chain_id": store.chain_id},
            actor=current_actor(),
            address=address,
            peer=peer,
            site_path=_path(portal),
        )
    return store


def _path(obj) -> str:
    return "/".join(obj.getPhysicalPath())


def current_actor() -> str:
    """The id of the user the security manager holds; "anonymous" for Anonymous."""
    from AccessControl.SecurityManagement import getSecurityManager

    user = getSecurityManager().getUser()
    if user is None:
        return ANONYMOUS
    user_id = user.getId()
    return user_id or ANONYMOUS


def client_address(request) -> tuple[str, str]:
    """(address, peer): the first X-Forwarded-For hop if present, else REMOTE_ADDR; and the
    direct peer (REMOTE_ADDR) when it differs, so a forged header stays visible."""
    if request is None:
        return "", ""
    get = getattr(request, "get", None)
    if get is None:
        return "", ""
    remote = (get("REMOTE_ADDR", "") or "").strip()
    forwarded = (get("HTTP_X_FORWARDED_FOR", "") or "").split(",")[0].strip()
    address = forwarded or remote
    return address, (remote if remote != address else "")


def _mark_safe(store: AuditStore, request) -> None:
    """Tell plone.protect that the audit writes of this request are not a CSRF-able write:
    a GET that exports personal data must still record the export."""
    environ = getattr(request, "environ", None)
    jar = store._p_jar
    if environ is None or jar is None:
        return
    import transaction
    from plone.protect.utils import SAFE_WRITE_KEY

    safe = environ.setdefault(SAFE_WRITE_KEY, [])
    registered = jar._registered_objects  # grows during a transaction; scan only what is new
    txn = id(transaction.get())
    seen_txn, seen = environ.get(_SCANNED_KEY, (None, 0))
    start = seen if seen_txn == txn and seen <= len(registered) else 0
    for obj in registered[start:]:
        if isinstance(obj, (AuditStore, AuditTree, AuditBucket)) and obj._p_oid not in safe:
            safe.append(obj._p_oid)
    environ[_SCANNED_KEY] = (txn, len(registered))


def record(
    action: str,
    target: str = "",
    details: dict | None = None,
    actor: str | None = None,
    request=None,
) -> None:
    """Append an audit record (who, when, from which address, what) in the current transaction.

    *action* is a short dotted name ("login.failure", "field.reveal"); *target* what it acted
    on (a path, "user:<id>", "registry:<name>"); *details* anything JSON-able (secrets never).
    """
    if not isinstance(action, str) or not action:
        raise ValueError("audit action must be a non-empty string")
    portal = _portal()
    if portal is None:
        logger.warning("没有活动的站点，审计记录未保存 / no Plone site active, not audited: %s %s", action, target)
        return
    store = get_store(portal)
    if store is None:
        logger.info("审计日志未安装 / audit trail not installed on %s, not audited: %s", _path(portal), action)
        return
    if request is None:
        from zope.globalrequest import getRequest

        request = getRequest()
    address, peer = client_address(request)
    store.append(
        action=action,
        target=target or "",
        details=details,
        actor=actor if actor is not None else current_actor(),
        address=address,
        peer=peer,
        site_path=_path(portal),
    )
    if request is not None:
        _mark_safe(store, request)


def checkpoint(store: AuditStore | None = None, portal=None, reason: str = "on_demand") -> dict | None:
    """Sign the head of the chain now (SM2); the file copy is written when the transaction commits."""
    portal = portal if portal is not None else _portal()
    store = store if store is not None else get_store(portal)
    if store is None:
        return None
    return store.checkpoint(reason=reason, site_path=_path(portal) if portal is not None else "")


def search(
    store: AuditStore,
    date_from: str | None = None,
    date_to: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    address: str | None = None,
) -> list[int]:
    """Sequence numbers of matching records, newest first.

    *date_from* / *date_to* are UTC timestamps as stored (inclusive, compared as strings;
    :func:`finserv.core.audit.browser.parse_filters` turns Shanghai calendar days into them);
    *actor* matches exactly, *action* and *address* as prefixes, *target* as a
    case-insensitive substring. A linear scan: fine for years of an office's activity.
    """
    target = target.lower() if target else None
    found = []
    for seq, rec in store.items():
        stamp = rec.get("timestamp", "")
        if date_from and stamp < date_from:
            continue
        if date_to and stamp > date_to:
            continue
        if actor and rec.get("actor") != actor:
            continue
        if action and not rec.get("action", "").startswith(action):
            continue
        if address and not (rec.get("address", "").startswith(address) or rec.get("peer", "").startswith(address)):
            continue
        if target and target not in rec.get("target", "").lower():
            continue
        found.append(seq)
    found.reverse()
    return found
