"""Import and export users: the demo consumer of excel + tasks (@@import-users).

* ``users.import`` — creates users from an uploaded .xlsx (用户名, 姓名, 邮箱, 手机号码, 用户组),
  each with a generated password that meets the password policy (they set their own through
  "忘记密码"; generated passwords are never shown or stored anywhere else), and adds them to
  existing groups. All-or-nothing: one bad row and no user is created; the task fails with an
  error report to download. Idempotent when retried: the whole import is one transaction, so a
  ConflictError retry starts again from a state where none of its users exist; a redelivered
  Celery message finds the task done and does nothing.
* ``users.export`` — all users as an .xlsx; mobile numbers in full only for holders of
  "finserv: Reveal personal data" (the export is then audited), masked otherwise. Read-only,
  so trivially idempotent.

Site Administrators cannot import users into groups that carry the Manager or Site
Administrator role (that would let them create administrators); Managers can.
"""

from __future__ import annotations

import datetime
import re
import secrets
import string

from AccessControl.SecurityManagement import getSecurityManager
from plone import api
from plone.protect import CheckAuthenticator
from Products.Five.browser import BrowserView
from zope.i18n import translate
from zope.i18nmessageid import Message

from finserv import _
from finserv.core.excel import XLSX
from finserv.core.excel import Column
from finserv.core.excel import ExcelError
from finserv.core.excel import RowInvalid
from finserv.core.excel import check_file
from finserv.core.excel import error_report_xlsx
from finserv.core.excel import export_xlsx
from finserv.core.excel import import_xlsx
from finserv.core.excel import template_xlsx
from finserv.core.excel import tr
from finserv.core.tasks import FileResult
from finserv.core.tasks import TaskFailed
from finserv.core.tasks import queue
from finserv.core.tasks import task

IMPORT_COLUMNS = [
    Column("用户名", "username", required=True, max_length=50, width=16, hint="字母、数字及 . _ - @，3 至 50 位"),
    Column("姓名", "fullname", required=True, max_length=50, width=14),
    Column("邮箱", "email", required=True, type="email"),
    Column("手机号码", "mobile", type="mobile"),
    Column("用户组", "groups", width=24, hint="已有用户组的名称，多个用逗号分隔"),
]
EXPORT_COLUMNS = IMPORT_COLUMNS
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,49}$")
GROUP_SEPARATORS = re.compile(r"[,，;；、\s]+")
PRIVILEGED_ROLES = {"Manager", "Site Administrator"}

MSG_BAD_USERNAME = _("users_bad_username", default="用户名只能包含字母、数字及 . _ - @，长度 3 至 50 位")
MSG_DUPLICATE = _("users_duplicate_in_file", default="与文件中前面的行用户名重复")
MSG_EXISTS = _("users_exists", default="用户名已存在")
MSG_NO_GROUP = _("users_no_group", default="用户组不存在：${groups}")
MSG_PRIVILEGED = _("users_privileged_group", default="无权将用户加入管理员用户组：${groups}")
MSG_CREATING = _("users_creating", default="正在创建用户 ${username}……")
MSG_EXPORTING = _("users_exporting", default="正在导出第 ${n} / ${total} 个用户……")


def generate_password(login: str, length: int = 16) -> str:
    """A random password with all four character classes that passes the site's policy."""
    from finserv.core.login.policy import check_rules

    alphabet = string.ascii_letters + string.digits + "!#$%&*+-=?@^_~"
    while True:
        chars = [
            secrets.choice(string.ascii_lowercase),
            secrets.choice(string.ascii_uppercase),
            secrets.choice(string.digits),
            secrets.choice("!#$%&*+-=?@^_~"),
        ] + [secrets.choice(alphabet) for _i in range(length - 4)]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        if not check_rules(password, login):
            return password


def _group_lookup(portal):
    """{name or title: (group id, privileged?)} of the site's groups."""
    lookup = {}
    for group in api.group.get_groups():
        group_id = group.getId()
        privileged = bool(PRIVILEGED_ROLES & set(group.getRoles()))
        lookup[group_id] = (group_id, privileged)
        title = group.getProperty("title") or ""
        if title:
            lookup.setdefault(title, (group_id, privileged))
    return lookup


def _is_manager(portal) -> bool:
    return "Manager" in getSecurityManager().getUser().getRolesInContext(portal)


@task("users.import", title=_("task_users_import", default="导入用户"))
def import_users(context, progress, filename=""):
    portal = api.portal.get()
    data = progress.input("upload")
    groups = _group_lookup(portal)
    may_grant_admin = _is_manager(portal)
    seen = set()

    def handle(values):
        username = values["username"]
        if not USERNAME.match(username):
            raise RowInvalid(MSG_BAD_USERNAME, column="username")
        if username.lower() in seen:
            raise RowInvalid(MSG_DUPLICATE, column="username")
        seen.add(username.lower())
        if api.user.get(username=username) is not None:
            raise RowInvalid(MSG_EXISTS, column="username")
        names = [n for n in GROUP_SEPARATORS.split(values["groups"] or "") if n]
        unknown = [n for n in names if n not in groups]
        if unknown:
            raise RowInvalid(Message(MSG_NO_GROUP, mapping={"groups": "、".join(unknown)}), column="groups")
        privileged = [n for n in names if groups[n][1]]
        if privileged and not may_grant_admin:
            raise RowInvalid(Message(MSG_PRIVILEGED, mapping={"groups": "、".join(privileged)}), column="groups")
        progress(None, Message(MSG_CREATING, mapping={"username": username}))
        user = api.user.create(
            email=values["email"],
            username=username,
            password=generate_password(username),
            properties={"fullname": values["fullname"], "mobile": values["mobile"] or ""},
        )
        for name in names:
            api.group.add_user(groupname=groups[name][0], user=user)

    try:
        report = import_xlsx(data, IMPORT_COLUMNS, handle, progress)
    except ExcelError as exc:
        raise TaskFailed(exc.message)
    if not report.ok:
        stem = re.sub(r"\.xlsx$", "", filename or "用户", flags=re.I)
        raise TaskFailed(
            report.message(),
            file=FileResult(f"{stem}-错误报告.xlsx", error_report_xlsx(report), XLSX),
            summary=report.summary(),
        )
    from finserv.core.audit import record

    record("users.import", target="/".join(portal.getPhysicalPath()), details={"users": report.saved, "file": filename})
    return {"created": report.saved, "message": report.message()}


@task("users.export", title=_("task_users_export", default="导出用户"))
def export_users(context, progress):
    from finserv.core.audit import record
    from finserv.core.login.mobile import mask
    from finserv.core.sensitive import REVEAL_PERMISSION

    portal = api.portal.get()
    users = sorted(api.user.get_users(), key=lambda u: u.getId())
    full = api.user.has_permission(REVEAL_PERMISSION, obj=portal)
    total = len(users)

    def rows():
        for n, user in enumerate(users, start=1):
            progress(100.0 * n / max(total, 1) * 0.95, Message(MSG_EXPORTING, mapping={"n": n, "total": total}))
            mobile = user.getProperty("mobile", "") or ""
            group_ids = [g for g in api.group.get_groups(user=user) if g.getId() != "AuthenticatedUsers"]
            yield {
                "username": user.getUserName(),
                "fullname": user.getProperty("fullname", ""),
                "email": user.getProperty("email", ""),
                "mobile": mobile if full else (mask(mobile) if mobile else ""),
                "groups": "，".join(g.getId() for g in group_ids),
            }

    data = export_xlsx(rows(), EXPORT_COLUMNS, title="用户")
    if full and total:
        record("personal_data.export", target="users", details={"records": total, "fields": ["email", "mobile"]})
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M")
    return FileResult(f"用户-{stamp}.xlsx", data, XLSX, summary={"users": total, "mobile_masked": not full})


# --- the page ----------------------------------------------------------------------------------


class ImportUsersView(BrowserView):
    """@@import-users (permission: Manage users): template, upload → import task, export task."""

    error = None

    def __call__(self):
        form = self.request.form
        if self.request.method == "POST" and ("form.upload" in form or "form.export" in form):
            CheckAuthenticator(self.request)
            if "form.export" in form:
                return self._redirect(queue("users.export", self.context))
            upload = form.get("file")
            task_id = self._queue_import(upload)
            if task_id:
                return self._redirect(task_id)
            self.request.response.setStatus(400)
        return self.index()

    def _redirect(self, task_id):
        self.request.response.redirect(f"{self.context.absolute_url()}/@@task-progress?id={task_id}")
        return ""

    def _queue_import(self, upload):
        filename = getattr(upload, "filename", "") or ""
        if not filename:
            self.error = translate(_("users_no_file", default="请选择要上传的 Excel 文件。"), context=self.request)
            return None
        filename = filename.replace("\\", "/").rsplit("/", 1)[-1]
        if not filename.lower().endswith(".xlsx"):
            self.error = translate(
                _("users_not_xlsx", default="只能上传 .xlsx 格式的 Excel 文件（您上传的是“${name}”）。", mapping={"name": filename}),
                context=self.request,
            )
            return None
        from finserv.core.excel import MAX_BYTES

        data = upload.read(MAX_BYTES + 1)
        try:
            check_file(data, IMPORT_COLUMNS)
        except ExcelError as exc:
            self.error = exc.message
            return None
        return queue("users.import", self.context, inputs={"upload": FileResult(filename, data, XLSX)}, filename=filename)

    def columns(self):
        return [{"header": c.header, "hint": c.hint_text(), "required": c.required} for c in IMPORT_COLUMNS]

    def max_mb(self):
        from finserv.core.excel import MAX_BYTES

        return MAX_BYTES // (1024 * 1024)


class ImportUsersTemplate(BrowserView):
    """@@import-users-template: the .xlsx template."""

    def __call__(self):
        data = template_xlsx(IMPORT_COLUMNS, title=tr(_("users_template_sheet", default="用户")))
        response = self.request.response
        response.setHeader("Content-Type", XLSX)
        response.setHeader("Content-Disposition", "attachment; filename=\"users-template.xlsx\"; filename*=UTF-8''%E7%94%A8%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx")
        response.setHeader("Content-Length", str(len(data)))
        response.setHeader("Cache-Control", "private, no-store")
        return data
