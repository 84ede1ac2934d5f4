"""Small shared helpers: the plugin lookup, the per-request cache, audit, translation."""

from __future__ import annotations

import logging

from zope.component.hooks import getSite
from zope.globalrequest import getRequest
from zope.i18n import translate

logger = logging.getLogger("finserv.login")

PLUGIN_ID = "finserv_login"
_CACHE_KEY = "finserv.login.cache"


def get_plugin(site=None):
    """The site's login security PAS plugin (``acl_users/finserv_login``), or None."""
    site = site if site is not None else getSite()
    if site is None:
        return None
    acl_users = getattr(site, "acl_users", None)
    if acl_users is None:
        return None
    return acl_users._getOb(PLUGIN_ID, None)


def request_cache(request=None) -> dict:
    """A dict that lives as long as the HTTP request — including Zope's retries of it.

    Results of checks with side effects (a failure counted, a one-time code used) are cached
    here so that the same credentials seen twice in one request (by two PAS extractors, or by
    traversal and then the @login service) are counted once, and a request retried after a
    ConflictError sees the same outcome.
    """
    request = request if request is not None else getRequest()
    if request is None:
        return {}
    env = getattr(request, "_orig_env", None)
    if not isinstance(env, dict):
        env = getattr(request, "environ", None)
    if not isinstance(env, dict):
        other = getattr(request, "other", None)
        if not isinstance(other, dict):
            return {}
        env = other
    cache = env.get(_CACHE_KEY)
    if cache is None:
        cache = env[_CACHE_KEY] = {}
    return cache


def tr(message, request=None) -> str:
    """Translate a finserv message (Chinese default) for the current request."""
    return translate(message, context=request if request is not None else getRequest())


def audit(action: str, target: str = "", details: dict | None = None, actor: str | None = None, request=None) -> None:
    """Record an audit event through finserv.core.audit; never lets auditing break a login."""
    try:
        from finserv.core.audit import record
    except ImportError:
        logger.error("finserv.core.audit is missing; audit event not recorded: %s %s %s", action, target, details)
        return
    try:
        record(action, target=target, details=details or {}, actor=actor, request=request if request is not None else getRequest())
    except Exception:  # noqa: BLE001 - log loudly, but a broken audit store must not lock everyone out
        logger.exception("audit record failed: %s %s", action, target)


def audit_durable(action: str, target: str = "", details: dict | None = None, request=None) -> None:
    """Record an audit event that must survive the request's transaction being aborted.

    Failed logins often end in Unauthorized (HTTP Basic auth on a protected page), which aborts
    the request's transaction and with it the audit record written there. The event is recorded
    in the transaction as usual *and* remembered by a small data manager joined to it: if the
    transaction aborts (or its commit fails), the data manager writes the remembered events again
    in a side transaction of their own. A request that Zope retries after a ConflictError
    records its failures once: the login check is cached across the retry.
    """
    request = request if request is not None else getRequest()
    audit(action, target, details, request=request)
    site = getSite()
    if site is None or getattr(site, "_p_jar", None) is None:
        return
    import transaction

    txn = transaction.get()
    try:
        manager = txn.data(_AbortAudit)
    except KeyError:
        manager = _AbortAudit(site, request)
        txn.join(manager)
        txn.set_data(_AbortAudit, manager)
    manager.events.append((action, target, details or {}))


class _AbortAudit:
    """Transaction data manager that replays audit events durably when its transaction aborts."""

    transaction_manager = None

    def __init__(self, site, request):
        self.db = site._p_jar.db()
        self.path = "/".join(site.getPhysicalPath())
        self.request = request
        self.events = []

    def sortKey(self):
        return "~finserv.login.audit-on-abort"

    def abort(self, txn):
        self._replay()

    def tpc_abort(self, txn):
        self._replay()

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        pass

    def tpc_finish(self, txn):
        self.events = []  # committed with the request

    def _replay(self):
        events, self.events = self.events, []
        if not events:
            return
        import transaction
        from zope.component.hooks import setSite

        tm = transaction.TransactionManager()
        conn = self.db.open(transaction_manager=tm)
        previous = getSite()
        try:
            from finserv.core.audit import record

            for attempt in range(5):
                tm.begin()
                try:
                    site = conn.root()["Application"].unrestrictedTraverse(self.path)
                    setSite(site)
                    for action, target, details in events:
                        record(action, target=target, details=details, request=self.request)
                    tm.commit()
                    break
                except Exception as exc:  # noqa: BLE001
                    tm.abort()
                    from ZODB.POSException import ConflictError

                    if not isinstance(exc, ConflictError) or attempt == 4:
                        raise
        except Exception:  # noqa: BLE001 - an abort must go on; log what could not be kept
            logger.exception("could not keep the audit events of an aborted request: %s", events)
        finally:
            setSite(previous)
            conn.close()


def user_target(userid: str) -> str:
    return f"user:{userid}"


def login_target(login: str) -> str:
    return f"login:{login}"


def client_ip(request=None) -> str:
    request = request if request is not None else getRequest()
    if request is None:
        return ""
    try:
        return request.getClientAddr() or ""
    except Exception:  # noqa: BLE001
        return ""
