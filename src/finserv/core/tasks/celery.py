"""The Celery app of the scaled-out setup: ``celery -A finserv.core.tasks.celery:app worker``.

Configuration (environment):

* ``FINSERV_CELERY_BROKER`` — broker URL (``redis://127.0.0.1:6379/0``). Unset: embedded mode,
  Zope never sends anything here and runs tasks in-process.
* ``FINSERV_ZOPE_CONF`` — the worker's zope.conf (a ZEO or RelStorage client of the same
  database as the Zope clients); the worker bootstraps Zope from it the way ``zconsole run``
  does, once per worker process, on its first task.
* ``SITE_ID`` — the Plone site used when a message names none (default ``finserv``).

Messages are JSON only (``task_serializer``/``accept_content``): site id, task id, task name,
context path, user id and the task's JSON parameters. Files travel through the ZODB (blobs on
the task record), never in a message. State and results are in the ZODB, so no result backend.
``acks_late``: a message whose worker died mid-task is delivered again; the runner skips tasks
that are already done or failed, and an unfinished one left nothing behind (its transaction
never committed), so running it again is safe.
"""

from __future__ import annotations

import logging
import os
import threading

from celery import Celery

logger = logging.getLogger("finserv.tasks")

app = Celery("finserv")
app.conf.update(
    broker_url=os.environ.get("FINSERV_CELERY_BROKER", "").strip() or "memory://",
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="finserv",
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": 6 * 3600},
    worker_hijack_root_logger=False,
)

_DB = None
_DB_LOCK = threading.Lock()


def set_worker_db(db) -> None:
    """Use *db* instead of bootstrapping Zope (tests in eager mode, or a worker embedded in a
    process that already has the database open)."""
    global _DB
    _DB = db


def worker_db():
    """The ZODB of this worker process, opened through FINSERV_ZOPE_CONF on first use."""
    global _DB
    with _DB_LOCK:
        if _DB is None:
            conf = os.environ.get("FINSERV_ZOPE_CONF")
            if not conf:
                raise RuntimeError("FINSERV_ZOPE_CONF is not set: the worker cannot open the ZODB")
            import Zope2
            from Zope2.Startup.run import make_wsgi_app

            make_wsgi_app({}, conf)  # loads the configuration and ZCML, opens the database
            _DB = Zope2.DB
            logger.info("finserv worker: Zope bootstrapped from %s", conf)
        return _DB


@app.task(name="finserv.tasks.run", bind=True)
def run_task(self, site_id, task_id, task_name, context_path, user_id, params):
    """Run one queued finserv task. The arguments repeat what the task record holds; the record
    (written by the request that queued it) is authoritative."""
    from finserv.core.tasks.runner import run_isolated

    site_id = site_id or os.environ.get("SITE_ID", "finserv")
    status = run_isolated(worker_db(), site_id, task_id)
    logger.info("task %s (%s, by %s on %s): %s", task_id, task_name, user_id, context_path, status)
    return status


def message_args(site_id, task_id, task_name, context_path, user_id, params) -> list:
    return [site_id, task_id, task_name, context_path, user_id, params]


def send(site_id, task_id, task_name, context_path, user_id, params):
    """Send the task to the broker (called from the after-commit hook of the queueing request)."""
    return run_task.apply_async(
        args=message_args(site_id, task_id, task_name, context_path, user_id, params), serializer="json"
    )
