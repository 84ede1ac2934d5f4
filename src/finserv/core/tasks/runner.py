"""Running one task: its own ZODB connection, its own transaction, the owner's security context.

``run(db, site_id, task_id)`` is the one implementation; both execution modes call it:

* embedded (no broker): :func:`start_background` runs it in a daemon thread started by the
  after-commit hook of the transaction that queued the task, so the request returns at once;
* Celery: the worker task (:mod:`finserv.core.tasks.celery`) calls :func:`run_isolated`.

``run`` always executes in a thread of its own (``run_isolated`` starts one and joins it), so the
thread-local transaction, security manager, component site and global request it sets up never
leak into a request thread or a worker's main thread.

Steps:

1. transaction 1: the record goes queued → running (skipped if it is already done or failed:
   a redelivered message runs nothing twice);
2. transaction 2 (the work): the owner's user object from the site's (or the root) user folder
   becomes the security context, the registered function runs with the context object, and the
   result is stored with ``status = done`` — in that same transaction, so a result exists only
   if the work committed;
3. a ``ConflictError`` (from the work or its commit) aborts transaction 2 and runs it again on
   fresh state after a backoff (0.5 s, 1 s, 2 s, plus jitter), up to MAX_ATTEMPTS times;
4. any other exception aborts it and a short transaction records ``failed`` and the Chinese
   reason (a :class:`TaskFailed` brings its own reason and maybe a file, e.g. an error report).

Progress updates go through a second connection with its own transaction manager and write only
the task's TaskProgress object, at most once per PROGRESS_INTERVAL seconds.
"""

from __future__ import annotations

import logging
import random
import threading
import time

import transaction
from AccessControl.SecurityManagement import newSecurityManager
from AccessControl.SecurityManagement import noSecurityManager
from ZODB.POSException import ConflictError
from zope.component.hooks import setSite
from zope.globalrequest import setRequest

from finserv import _
from zope.i18nmessageid import Message
from finserv.core.tasks.registry import FileResult
from finserv.core.tasks.registry import TaskFailed
from finserv.core.tasks.registry import get_task
from finserv.core.tasks.store import DONE
from finserv.core.tasks.store import FAILED
from finserv.core.tasks.store import QUEUED
from finserv.core.tasks.store import RUNNING
from finserv.core.tasks.store import TaskFile
from finserv.core.tasks.store import get_store
from finserv.core.tasks.store import now

logger = logging.getLogger("finserv.tasks")

MAX_ATTEMPTS = 4  # the first try and three retries after a ConflictError
BACKOFF = 0.5  # seconds; doubled on each retry, plus up to 50 % jitter
PROGRESS_INTERVAL = 1.0  # seconds between two progress writes
MAX_THREADS = 2  # embedded mode: tasks running at the same time in one Zope process

MSG_CONFLICT = _("task_conflict_exhausted", default="数据被其他操作同时修改，重试 ${attempts} 次后仍未完成，请稍后重新发起。")
MSG_CONFLICT_RETRY = _("task_conflict_retry", default="数据被其他操作同时修改，正在重试（第 ${attempt} 次）……")
MSG_INTERNAL = _("task_internal_error", default="任务执行时发生内部错误（${error}），已记入日志，请联系管理员。")
MSG_NO_USER = _("task_owner_missing", default="发起任务的用户“${user}”已不存在，任务未执行。")
MSG_UNKNOWN = _("task_unknown", default="未知的任务类型：${name}")
MSG_NO_CONTEXT = _("task_context_missing", default="任务对象“${path}”已不存在，任务未执行。")
MSG_DOOMED = _("task_doomed", default="任务中有数据不符合要求，所有修改均未保存。")
MSG_STARTED = _("task_started", default="任务已开始……")


def translate(message) -> str:
    """A message as the Chinese text users read (the site's language is zh_CN)."""
    if message is None:
        return ""
    from zope.i18n import translate as _translate

    return str(_translate(message, target_language="zh_CN"))


def _find_user(app, portal, user_id):
    for folder in (getattr(portal, "acl_users", None), getattr(app, "acl_users", None)):
        if folder is None:
            continue
        user = folder.getUserById(user_id)
        if user is not None:
            if not hasattr(user, "aq_base"):
                user = user.__of__(folder)
            return user
    return None


class Progress:
    """The ``progress`` argument of a task: ``progress(percent, message)``.

    *percent* is 0–100 (None keeps the last one); *message* is what is being done now, in Chinese
    (an i18n Message or a string). Calls are cheap: the state is written at most once per
    PROGRESS_INTERVAL seconds (``force=True`` writes now), in a short transaction of its own
    connection — never in the task's transaction, which commits only when the work is done.
    ``progress.input(name)`` returns the bytes of a file given to ``queue(..., inputs=...)``.
    """

    def __init__(self, db, record, interval=None):
        self._db = db
        self._record = record
        self._oid = record.progress._p_oid
        self.task_id = record.id
        self.owner = record.owner
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        self._conn = None
        self._tm = None
        self._last_write = 0.0
        self.percent = record.progress.percent
        self.message = record.progress.message

    def __call__(self, percent=None, message=None, force=False):
        if percent is not None:
            self.percent = max(0.0, min(100.0, float(percent)))
        if message is not None:
            self.message = translate(message)
        if force or time.monotonic() - self._last_write >= self.interval:
            self.flush()

    def flush(self):
        self._last_write = time.monotonic()
        try:
            if self._conn is None:
                self._tm = transaction.TransactionManager()
                self._conn = self._db.open(transaction_manager=self._tm)
            self._tm.begin()
            state = self._conn.get(self._oid)
            state.percent = round(self.percent, 1)
            state.message = self.message
            state.updated = now()
            self._tm.commit()
        except ConflictError:
            self._tm.abort()  # the next update writes again
        except Exception:
            logger.exception("progress update of task %s failed", self.task_id)
            if self._tm is not None:
                self._tm.abort()

    def input(self, name) -> bytes:
        return self._record.inputs[name].data()

    def close(self):
        if self._conn is not None:
            try:
                self._tm.abort()
                self._conn.close()
            finally:
                self._conn = None


def _store_file(record, result: FileResult | None):
    record.result = (
        TaskFile(result.filename, result.data, result.content_type) if result is not None else None
    )


def _load(app, site_id, task_id):
    portal = app.unrestrictedTraverse(site_id, None)
    if portal is None:
        return None, None
    setSite(portal)
    store = get_store(portal)
    return portal, (store.get(task_id) if store is not None else None)


def _fail(app, site_id, task_id, reason, file=None, summary=None):
    """Record the failure in a short transaction of its own (retried on conflict)."""
    for attempt in range(MAX_ATTEMPTS):
        transaction.begin()
        try:
            portal, record = _load(app, site_id, task_id)
            if record is None:
                transaction.abort()
                return FAILED
            record.status = FAILED
            record.error = translate(reason)
            record.summary = summary
            _store_file(record, file)
            record.finished = now()
            transaction.commit()
            return FAILED
        except ConflictError:
            transaction.abort()
            time.sleep(BACKOFF * (attempt + 1))
    logger.error("could not record the failure of task %s: %s", task_id, translate(reason))
    return FAILED


def run(db, site_id, task_id, sleep=time.sleep) -> str | None:
    """Run task *task_id* of site *site_id* in the calling thread; returns its final status."""
    from Testing.makerequest import makerequest

    conn = db.open()
    progress = None
    try:
        app = makerequest(conn.root()["Application"], environ={"HTTP_ACCEPT_LANGUAGE": "zh-cn"})
        request = app.REQUEST
        request["PARENTS"] = [app]
        setRequest(request)

        # 1. queued → running
        for attempt in range(MAX_ATTEMPTS):
            transaction.begin()
            portal, record = _load(app, site_id, task_id)
            if record is None:
                logger.warning("task %s not found in site %s", task_id, site_id)
                transaction.abort()
                return None
            if record.status in (DONE, FAILED):
                transaction.abort()
                return record.status  # delivered twice: it already ran
            record.status = RUNNING
            record.started = now()
            try:
                transaction.commit()
                break
            except ConflictError:
                transaction.abort()
                sleep(BACKOFF)
        else:
            return None

        definition = get_task(record.name)
        if definition is None:
            return _fail(app, site_id, task_id, Message(MSG_UNKNOWN, mapping={"name": record.name}))
        user = _find_user(app, portal, record.owner)
        if user is None:
            return _fail(app, site_id, task_id, Message(MSG_NO_USER, mapping={"user": record.owner}))

        # 2. the work, in its own transaction, retried on ConflictError
        for attempt in range(1, MAX_ATTEMPTS + 1):
            transaction.begin()
            portal, record = _load(app, site_id, task_id)
            user = _find_user(app, portal, record.owner)
            newSecurityManager(request, user)
            try:
                record.attempts = attempt
                context = app.unrestrictedTraverse(record.context_path.lstrip("/"), None)
                if context is None:
                    transaction.abort()
                    return _fail(app, site_id, task_id, Message(MSG_NO_CONTEXT, mapping={"path": record.context_path}))
                if progress is None:
                    progress = Progress(db, record)
                    progress(0, MSG_STARTED, force=True)
                else:
                    progress._record = record
                result = definition.fn(context, progress, **record.params)
                if transaction.get().isDoomed():  # e.g. an all-or-nothing import with bad rows
                    transaction.abort()
                    return _fail(app, site_id, task_id, MSG_DOOMED)
                if isinstance(result, FileResult):
                    _store_file(record, result)
                    record.summary = result.summary
                else:
                    record.summary = result
                record.status = DONE
                record.finished = now()
                record.error = ""
                transaction.commit()
                progress(100, None, force=True)  # the last message the task gave, now unthrottled
                return DONE
            except ConflictError:
                transaction.abort()
                if attempt == MAX_ATTEMPTS:
                    return _fail(app, site_id, task_id, Message(MSG_CONFLICT, mapping={"attempts": MAX_ATTEMPTS}))
                logger.info("task %s: ConflictError, retry %d", task_id, attempt)
                progress(None, Message(MSG_CONFLICT_RETRY, mapping={"attempt": attempt}), force=True)
                sleep(BACKOFF * 2 ** (attempt - 1) * (1 + random.random() / 2))
            except TaskFailed as exc:
                transaction.abort()
                return _fail(app, site_id, task_id, exc.message, exc.file, exc.summary)
            except Exception as exc:
                transaction.abort()
                logger.exception("task %s (%s) failed", task_id, record.name if record else "?")
                return _fail(app, site_id, task_id, Message(MSG_INTERNAL, mapping={"error": type(exc).__name__}))
            finally:
                noSecurityManager()
    finally:
        if progress is not None:
            progress.close()
        transaction.abort()
        setSite(None)
        setRequest(None)
        noSecurityManager()
        conn.close()


# --- threads ---------------------------------------------------------------------------------

_THREADS: set[threading.Thread] = set()
_THREADS_LOCK = threading.Lock()
_SLOTS = threading.BoundedSemaphore(MAX_THREADS)


def _thread_main(db, site_id, task_id, results, limit):
    try:
        if limit:
            with _SLOTS:
                results.append(run(db, site_id, task_id))
        else:
            results.append(run(db, site_id, task_id))
    except Exception:
        logger.exception("task %s crashed", task_id)
    finally:
        with _THREADS_LOCK:
            _THREADS.discard(threading.current_thread())


def _start(db, site_id, task_id, limit=True):
    results = []
    thread = threading.Thread(
        target=_thread_main, args=(db, site_id, task_id, results, limit), name=f"finserv-task-{task_id}", daemon=True
    )
    with _THREADS_LOCK:
        _THREADS.add(thread)
    thread.start()
    return thread, results


def start_background(db, site_id, task_id) -> threading.Thread:
    """Embedded mode: run the task in a daemon thread and return at once."""
    thread, _results = _start(db, site_id, task_id)
    return thread


def run_isolated(db, site_id, task_id) -> str | None:
    """Run the task in a fresh thread and wait for it (the Celery worker, and eager mode in tests,
    where the calling thread may be in the middle of its own transaction)."""
    thread, results = _start(db, site_id, task_id, limit=False)
    thread.join()
    return results[0] if results else None


def wait_all(timeout: float = 30.0) -> bool:
    """Wait for the background tasks of this process (tests, shutdown). True if none is left."""
    deadline = time.monotonic() + timeout
    while True:
        with _THREADS_LOCK:
            threads = list(_THREADS)
        if not threads:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        threads[0].join(remaining)


__all__ = ["MAX_ATTEMPTS", "Progress", "QUEUED", "run", "run_isolated", "start_background", "wait_all"]
