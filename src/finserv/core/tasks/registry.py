"""Registered task functions, by name."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from typing import Callable

TASKS: dict[str, "TaskDef"] = {}


@dataclasses.dataclass(frozen=True)
class TaskDef:
    name: str
    fn: Callable
    title: Any  # an i18n Message (Chinese default) or a plain string


def task(name: str, title=None):
    """Register ``fn(context, progress, **params) -> result`` under *name*::

        @task("users.import", title=_("task_users_import", default="导入用户"))
        def import_users(context, progress, upload="upload"):
            ...
    """

    def register(fn):
        existing = TASKS.get(name)
        if existing is not None and existing.fn is not fn and existing.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"task {name!r} is already registered by {existing.fn!r}")
        TASKS[name] = TaskDef(name=name, fn=fn, title=title or name)
        return fn

    return register


def get_task(name: str) -> TaskDef | None:
    return TASKS.get(name)


@dataclasses.dataclass
class FileResult:
    """A file a task hands back: stored as a blob with the task, downloaded at @@task-result."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    summary: Any = None  # JSON-able details shown beside the download


class TaskFailed(Exception):
    """Raise from a task to fail it with a reason the user reads (Chinese), optionally with a
    file to download (an import's error report). The task's transaction is aborted."""

    def __init__(self, message, file: FileResult | None = None, summary=None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.summary = summary


def json_params(params: dict) -> dict:
    """*params* as they arrive in the worker: JSON only (no pickles). Raises TypeError."""
    try:
        text = json.dumps(params, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"task parameters must be JSON-serialisable: {exc}") from exc
    return json.loads(text)
