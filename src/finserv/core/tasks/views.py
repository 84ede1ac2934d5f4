"""The user's side of tasks: @@task-progress, @@my-tasks, @@task-result, GET @tasks[/<id>].

Visibility: a task is seen by the user who queued it and by Managers. Anonymous visitors are
asked to log in (401); other users get 403; an unknown id is 404.
"""

from __future__ import annotations

import zoneinfo

from AccessControl import Unauthorized
from plone import api
from plone.namedfile.utils import set_headers
from plone.namedfile.utils import stream_data
from plone.restapi.services import Service
from Products.Five.browser import BrowserView
from zExceptions import BadRequest
from zExceptions import Forbidden
from zExceptions import NotFound
from zope.interface import implementer
from zope.publisher.interfaces import IPublishTraverse

from finserv import _
from finserv.core.tasks import can_see
from finserv.core.tasks import get_record
from finserv.core.tasks.store import DONE
from finserv.core.tasks.store import FAILED
from finserv.core.tasks.store import QUEUED
from finserv.core.tasks.store import RUNNING
from finserv.core.tasks.store import get_store

_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")

STATUS_TITLES = {
    QUEUED: _("task_status_queued", default="排队中"),
    RUNNING: _("task_status_running", default="进行中"),
    DONE: _("task_status_done", default="已完成"),
    FAILED: _("task_status_failed", default="失败"),
}


def local_time(value):
    return value.astimezone(_ZONE).isoformat(timespec="seconds") if value is not None else None


def load_visible(portal, task_id):
    """The record of *task_id* if the current user may see it; raises otherwise."""
    record = get_record(portal, task_id)
    if record is None:
        raise NotFound(task_id or "")
    if api.user.is_anonymous():
        raise Unauthorized("log in to see your tasks")
    if not can_see(record):
        raise Forbidden("这不是您发起的任务。")
    return record


def serialize(record, portal_url: str, request=None) -> dict:
    from zope.i18n import translate

    result = None
    if record.result is not None:
        result = {
            "filename": record.result.filename,
            "content_type": record.result.content_type,
            "size": record.result.size,
            "download": f"{portal_url}/@@task-result?id={record.id}",
        }
    return {
        "@id": f"{portal_url}/@tasks/{record.id}",
        "id": record.id,
        "name": record.name,
        "title": record.title,
        "status": record.status,
        "status_title": translate(STATUS_TITLES[record.status], context=request, target_language="zh_CN"),
        "percent": round(record.percent, 1),
        "message": record.message,
        "error": record.error,
        "summary": record.summary,
        "result": result,
        "owner": record.owner,
        "created": local_time(record.created),
        "started": local_time(record.started),
        "finished": local_time(record.finished),
        "attempts": record.attempts,
        "progress_page": f"{portal_url}/@@task-progress?id={record.id}",
    }


class TaskProgressView(BrowserView):
    """@@task-progress?id=: a progress bar that polls GET @tasks/<id> every second."""

    def __call__(self):
        self.record = load_visible(self.context, self.request.form.get("id"))
        return self.index()

    def data(self):
        return serialize(self.record, self.context.absolute_url(), self.request)

    def api_url(self):
        return f"{self.context.absolute_url()}/++api++/@tasks/{self.record.id}"


class MyTasksView(BrowserView):
    """@@my-tasks: the current user's tasks, newest first."""

    def __call__(self):
        if api.user.is_anonymous():
            raise Unauthorized("log in to see your tasks")
        return self.index()

    def tasks(self):
        store = get_store(self.context)
        if store is None:
            return []
        user_id = api.user.get_current().getId()
        url = self.context.absolute_url()
        return [serialize(r, url, self.request) for r in store.for_owner(user_id)]


class TaskResultView(BrowserView):
    """@@task-result?id=: the task's file (its result, or the error report of a failed import)."""

    def __call__(self):
        record = load_visible(self.context, self.request.form.get("id"))
        if record.result is None:
            raise NotFound("no result")
        blob = record.result.file
        set_headers(blob, self.request.response, filename=blob.filename)
        self.request.response.setHeader("Cache-Control", "private, no-store")
        self.request.response.setHeader("X-Content-Type-Options", "nosniff")
        return stream_data(blob)


@implementer(IPublishTraverse)
class TasksGet(Service):
    """GET @tasks: my tasks; GET @tasks/<id>: one task (owner or Manager)."""

    def __init__(self, context, request):
        super().__init__(context, request)
        self.params = []

    def publishTraverse(self, request, name):
        self.params.append(name)
        return self

    def reply(self):
        url = self.context.absolute_url()
        if len(self.params) > 1:
            raise BadRequest("GET @tasks/<id>")
        if self.params:
            return serialize(load_visible(self.context, self.params[0]), url, self.request)
        if api.user.is_anonymous():
            raise Unauthorized("log in to see your tasks")
        store = get_store(self.context)
        user_id = api.user.get_current().getId()
        items = [serialize(r, url, self.request) for r in store.for_owner(user_id)] if store else []
        return {"@id": f"{url}/@tasks", "items": items, "items_total": len(items)}
