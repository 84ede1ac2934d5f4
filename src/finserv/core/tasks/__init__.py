"""tasks: long work (imports, batch PDFs, reports) with a progress bar for the user who started it.

Usage::

    from finserv.core.tasks import task, queue, FileResult, TaskFailed

    @task("users.export", title=_("task_users_export", default="导出用户"))
    def export_users(context, progress, **params):
        progress(10, "正在读取用户……")
        ...
        return FileResult("用户.xlsx", data, XLSX)        # or a JSON-able summary, or None

    task_id = queue("users.export", portal, include_groups=True)   # in a request
    # → redirect the user to @@task-progress?id=<task_id>

Semantics (see runner.py for the details):

* ``queue`` creates the task's record in the current transaction and sends the task from an
  after-commit hook: an aborted (or conflict-retried) request queues nothing, or queues once;
* the task runs in its own ZODB connection and transaction, as the user who queued it, in a
  background thread (no broker: embedded mode) or in a Celery worker (env
  ``FINSERV_CELERY_BROKER`` set; arguments are JSON only);
* a ConflictError re-runs the task's transaction on fresh state (MAX_ATTEMPTS, with backoff):
  a task must therefore do all its writes in that one transaction and keep no side effects
  outside it except through after-commit hooks (notify.send, audit checkpoints), which fire once;
* state (status, percent, message, result file or Chinese failure reason, owner, times) is in
  the ZODB: ``GET @tasks``, ``GET @tasks/<id>``, ``@@task-progress?id=``, ``@@my-tasks``,
  ``@@task-result?id=``; only the owner and Managers see a task.
"""

from __future__ import annotations

import logging
import os

import transaction
from AccessControl import Unauthorized
from AccessControl.SecurityManagement import getSecurityManager

from finserv.core.tasks.registry import FileResult
from finserv.core.tasks.registry import TASKS
from finserv.core.tasks.registry import TaskFailed
from finserv.core.tasks.registry import get_task
from finserv.core.tasks.registry import json_params
from finserv.core.tasks.registry import task
from finserv.core.tasks.store import DONE
from finserv.core.tasks.store import FAILED
from finserv.core.tasks.store import QUEUED
from finserv.core.tasks.store import RUNNING
from finserv.core.tasks.store import TaskFile
from finserv.core.tasks.store import TaskRecord
from finserv.core.tasks.store import ensure_store
from finserv.core.tasks.store import get_store

__all__ = [
    "DONE",
    "FAILED",
    "FileResult",
    "QUEUED",
    "RUNNING",
    "TASKS",
    "TaskFailed",
    "broker_url",
    "can_see",
    "get_record",
    "get_store",
    "queue",
    "task",
]

logger = logging.getLogger("finserv.tasks")

BROKER_ENV = "FINSERV_CELERY_BROKER"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def broker_url() -> str:
    """The Celery broker URL; empty means embedded mode (tasks run in-process)."""
    return os.environ.get(BROKER_ENV, "").strip()


def _portal_of(context):
    from Acquisition import aq_chain
    from Products.CMFCore.interfaces import ISiteRoot

    for obj in aq_chain(context):
        if ISiteRoot.providedBy(obj):
            return obj
    raise ValueError("queue(): the context is not inside a Plone site")


def queue(task_name: str, context, inputs: dict | None = None, **params) -> str:
    """Queue task *task_name* on *context* for the current user; returns the task id.

    *params* must be JSON-serialisable (they travel to a Celery worker as JSON). *inputs* maps a
    name to a :class:`FileResult` (e.g. an uploaded file) kept as a blob with the task and read in
    the task with ``progress.input(name)``. Nothing is sent before the transaction commits.
    """
    from finserv.core.tasks.runner import translate

    definition = get_task(task_name)
    if definition is None:
        raise KeyError(f"no task registered as {task_name!r}")
    params = json_params(params)
    user = getSecurityManager().getUser()
    owner = user.getId() if user is not None else None
    if not owner:
        raise Unauthorized("tasks can only be queued by a logged-in user")
    portal = _portal_of(context)
    store = ensure_store(portal)
    record = TaskRecord(
        task_id=store.new_id(),
        name=task_name,
        title=translate(definition.title),
        owner=owner,
        site_id=portal.getId(),
        context_path="/".join(context.getPhysicalPath()),
        params=params,
    )
    for name, item in (inputs or {}).items():
        record.inputs[name] = TaskFile(item.filename, item.data, item.content_type)
    store.add(record)
    db = portal._p_jar.db()
    transaction.get().addAfterCommitHook(
        _dispatch, args=(db, record.site_id, record.id, task_name, record.context_path, owner, params)
    )
    return record.id


def _dispatch(committed, db, site_id, task_id, task_name, context_path, owner, params):
    if not committed:
        return
    try:
        if broker_url():
            from finserv.core.tasks.celery import send

            send(site_id, task_id, task_name, context_path, owner, params)
        else:
            from finserv.core.tasks.runner import start_background

            start_background(db, site_id, task_id)
    except Exception:
        logger.exception("could not start task %s (%s)", task_id, task_name)
        _mark_unsent(db, site_id, task_id)


def _mark_unsent(db, site_id, task_id):
    from finserv import _
    from finserv.core.tasks.runner import translate
    from finserv.core.tasks.store import now

    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        tm.begin()
        portal = conn.root()["Application"].unrestrictedTraverse(site_id)
        record = get_store(portal).get(task_id)
        record.status = FAILED
        record.error = translate(_("task_not_sent", default="任务队列暂时不可用，任务未能启动，请稍后重新发起。"))
        record.finished = now()
        tm.commit()
    except Exception:
        logger.exception("could not mark task %s as failed", task_id)
        tm.abort()
    finally:
        conn.close()


def get_record(portal, task_id):
    store = get_store(portal)
    return store.get(task_id) if store is not None else None


def can_see(record, user=None) -> bool:
    """The owner of the task and Managers see it; nobody else does."""
    user = user if user is not None else getSecurityManager().getUser()
    if user is None or record is None:
        return False
    if user.getId() == record.owner:
        return True
    from plone import api

    portal = api.portal.get()
    return "Manager" in user.getRolesInContext(portal)
