"""Health, monitoring and operations of the platform (issue 8).

- ``health_info(db)``: the cheap status every ``@@health`` answer is made of (no object loads);
- ``views``: ``@@health`` (any context, public: the load balancer's check) and
  ``@@cluster-status`` (site root, administrators);
- ``wsgi``: the cluster clients' access log with the request duration;
- ``caching``: plone.app.caching settings for the platform (an INSTALL_STEPS function) and the
  purge target of the caching proxy;
- ``cluster``: starts/stops the ZEO server, the Zope clients, HAProxy, Varnish, Redis and the
  Celery worker (``make start-cluster``);
- ``backup``: repozo backups and restores, packing (``make backup``/``restore``/``pack``).
"""

import os
import time

STARTED = time.time()


def _storage_connected(storage):
    is_connected = getattr(storage, "is_connected", None)
    if is_connected is None:  # FileStorage, DemoStorage, …: local, always there
        return True
    try:
        return bool(is_connected())
    except Exception:
        return False


def health_info(db):
    """Status of this Zope process and its storage, without loading any object.

    ``db`` is a ZODB.DB. A ZEO ClientStorage reports whether it is connected; the size comes
    from the storage's own bookkeeping (ClientStorage keeps the server's last answer), so a
    health check costs no round trip to the server.
    """
    storage = db.storage
    connected = _storage_connected(storage)
    try:
        size = int(db.getSize())
    except Exception:
        size = None
    info = {
        "status": "ok" if connected else "unavailable",
        "zodb": "ok" if connected else "disconnected",
        "storage": type(storage).__name__,
        "storage_size": size,
        "uptime": round(time.time() - STARTED, 1),
        "pid": os.getpid(),
        "client": os.environ.get("FINSERV_CLIENT_NAME", "embedded"),
    }
    return info
