"""Where task state lives: one persistent object per task, in a BTree keyed by a random id.

Layout (portal annotation ``finserv.tasks``)::

    TaskStore
      tasks:  OOBTree  task id (random hex) -> TaskRecord
      owners: OOBTree  user id -> OOTreeSet of "<created>|<task id>" (the "my tasks" index)

Who writes what, so that writers never touch the same object (no ConflictError between them):

* the request that queues a task creates its TaskRecord, its TaskProgress and its index entry
  (random keys land in different buckets; a bucket conflict on insert is resolved by BTrees);
* the runner writes the TaskRecord (status, times, result or failure) in its own transactions;
* progress updates write only the TaskProgress (a separate persistent object), in short
  transactions of a separate connection, at most about once a second.
"""

from __future__ import annotations

import datetime
import json
import secrets

from BTrees.OOBTree import OOBTree
from BTrees.OOBTree import OOTreeSet
from persistent import Persistent
from finserv.core.storage import site_storage

ANNOTATION_KEY = "finserv.tasks"

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class TaskProgress(Persistent):
    """Percent and the "what is being done now" message; written by progress updates only."""

    def __init__(self):
        self.percent = 0.0
        self.message = ""
        self.updated = None


class TaskFile(Persistent):
    """A file kept with a task (its input upload, its result or its error report)."""

    def __init__(self, filename: str, data: bytes, content_type: str):
        from plone.namedfile.file import NamedBlobFile

        self.file = NamedBlobFile(data=data, filename=filename, contentType=content_type)

    @property
    def filename(self) -> str:
        return self.file.filename

    @property
    def content_type(self) -> str:
        return self.file.contentType

    @property
    def size(self) -> int:
        return self.file.getSize()

    def data(self) -> bytes:
        return self.file.data


class TaskRecord(Persistent):
    def __init__(self, task_id, name, title, owner, site_id, context_path, params):
        self.id = task_id
        self.name = name
        self.title = title  # Chinese, translated when queued
        self.owner = owner
        self.site_id = site_id
        self.context_path = context_path
        self.params_json = json.dumps(params, ensure_ascii=False, sort_keys=True)
        self.status = QUEUED
        self.created = now()
        self.started = None
        self.finished = None
        self.attempts = 0  # transactions tried (ConflictError retries included)
        self.error = ""  # failure reason, Chinese
        self.summary = None  # JSON-able result details ("created 120 users")
        self.result = None  # TaskFile
        self.inputs = OOBTree()  # name -> TaskFile
        self.progress = TaskProgress()

    @property
    def params(self) -> dict:
        return json.loads(self.params_json)

    @property
    def percent(self) -> float:
        if self.status == DONE:
            return 100.0
        return self.progress.percent

    @property
    def message(self) -> str:
        return self.progress.message

    def index_key(self) -> str:
        return f"{self.created.isoformat()}|{self.id}"


class TaskStore(Persistent):
    def __init__(self):
        self.tasks = OOBTree()
        self.owners = OOBTree()

    def new_id(self) -> str:
        while True:
            task_id = secrets.token_hex(10)
            if task_id not in self.tasks:
                return task_id

    def add(self, record: TaskRecord) -> None:
        self.tasks[record.id] = record
        index = self.owners.get(record.owner)
        if index is None:
            index = self.owners[record.owner] = OOTreeSet()
        index.insert(record.index_key())

    def get(self, task_id) -> TaskRecord | None:
        if not isinstance(task_id, str) or not task_id:
            return None
        return self.tasks.get(task_id)

    def for_owner(self, owner: str, limit: int = 50) -> list[TaskRecord]:
        index = self.owners.get(owner)
        if index is None:
            return []
        records = []
        for key in reversed(list(index.keys())):  # newest first
            record = self.tasks.get(key.rsplit("|", 1)[1])
            if record is not None:
                records.append(record)
            if len(records) >= limit:
                break
        return records


def get_store(portal) -> TaskStore | None:
    return site_storage(portal, ANNOTATION_KEY)


def ensure_store(portal) -> TaskStore:
    return site_storage(portal, ANNOTATION_KEY, TaskStore)
