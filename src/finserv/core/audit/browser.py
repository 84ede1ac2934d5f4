"""Classic UI for the audit trail: @@audit-log (search, verify) and @@audit-log-export (Excel).

Read-only by design: there is no view that edits or deletes a record. The one POST this view
accepts signs a checkpoint of the head, which adds to the trail and changes nothing in it.
"""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import urlencode

from finserv import _
from finserv.core.audit import checkpoint
from finserv.core.audit import get_store
from finserv.core.audit import record
from finserv.core.audit import search
from finserv.core.audit import verify_chain
from finserv.core.audit.store import SHANGHAI
from finserv.core.audit.store import utc_iso
from plone.batching import Batch
from Products.Five.browser import BrowserView
from zope.i18n import translate

FILTER_NAMES = ("date_from", "date_to", "actor", "action", "target", "address")
PAGE_SIZE = 50
EXCEL_MAX_ROWS = 1_048_575  # Excel's limit, less the header row
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

ACTION_TITLES = {
    "audit.started": _("audit_action_audit_started", default="启用审计日志"),
    "audit.export": _("audit_action_audit_export", default="导出审计日志"),
    "audit.verify": _("audit_action_audit_verify", default="校验审计日志"),
    "audit.checkpoint": _("audit_action_audit_checkpoint", default="签名审计检查点"),
    "login.success": _("audit_action_login_success", default="登录成功"),
    "login.failure": _("audit_action_login_failure", default="登录失败"),
    "login.lockout": _("audit_action_login_lockout", default="账户锁定"),
    "logout": _("audit_action_logout", default="退出登录"),
    "workflow.transition": _("audit_action_workflow_transition", default="工作流流转"),
    "roles.local_changed": _("audit_action_roles_local_changed", default="本地角色变更"),
    "roles.global_changed": _("audit_action_roles_global_changed", default="全局角色变更"),
    "group.member_added": _("audit_action_group_member_added", default="用户加入用户组"),
    "group.member_removed": _("audit_action_group_member_removed", default="用户移出用户组"),
    "group.created": _("audit_action_group_created", default="创建用户组"),
    "group.deleted": _("audit_action_group_deleted", default="删除用户组"),
    "user.created": _("audit_action_user_created", default="创建用户"),
    "user.deleted": _("audit_action_user_deleted", default="删除用户"),
    "user.password_changed": _("audit_action_user_password_changed", default="修改密码"),
    "password.changed": _("audit_action_password_changed", default="修改密码"),
    "twofactor.failure": _("audit_action_twofactor_failure", default="二次验证失败"),
    "config.registry_changed": _("audit_action_config_registry_changed", default="配置变更"),
    "personal_data.export": _("audit_action_personal_data_export", default="导出个人信息"),
    "field.reveal": _("audit_action_field_reveal", default="查看加密字段明文"),
    "document.issue": _("audit_action_document_issue", default="签发文件"),
    "document.revoke": _("audit_action_document_revoke", default="撤销文件"),
    "apikey.issued": _("audit_action_apikey_issued", default="签发 API 密钥"),
    "apikey.revoked": _("audit_action_apikey_revoked", default="吊销 API 密钥"),
    "apikey.call": _("audit_action_apikey_call", default="API 密钥调用"),
    "apikey.refused": _("audit_action_apikey_refused", default="API 密钥被拒绝"),
    "crypto.key_rotated": _("audit_action_crypto_key_rotated", default="轮换数据密钥"),
}


class FilterError(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _day(value: str, end: bool) -> str:
    if not _DATE.fullmatch(value):
        raise FilterError(_("audit_error_date", default="日期格式应为 YYYY-MM-DD。"))
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise FilterError(_("audit_error_date", default="日期格式应为 YYYY-MM-DD。")) from None
    moment = datetime.datetime.combine(day, datetime.time.max if end else datetime.time.min, SHANGHAI)
    return utc_iso(moment)


def parse_filters(form) -> tuple[dict, dict]:
    """(the filters as entered, the query for :func:`search`); dates are Shanghai calendar days."""
    entered = {}
    for name in FILTER_NAMES:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            entered[name] = value.strip()[:200]
    query = {k: v for k, v in entered.items() if k not in ("date_from", "date_to")}
    if "date_from" in entered:
        query["date_from"] = _day(entered["date_from"], end=False)
    if "date_to" in entered:
        query["date_to"] = _day(entered["date_to"], end=True)
    if query.get("date_from") and query.get("date_to") and query["date_from"] > query["date_to"]:
        raise FilterError(_("audit_error_range", default="起始日期不能晚于截止日期。"))
    return entered, query


def action_title(action: str, request) -> str:
    title = ACTION_TITLES.get(action)
    return translate(title, context=request) if title is not None else action


def details_text(details) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True)


class AuditLogView(BrowserView):
    """@@audit-log on the site root: search the trail newest first, verify it, export it."""

    error = None
    verification = None
    message = None

    def store(self):
        return get_store(self.context)

    def __call__(self):
        form = self.request.form
        if self.request.get("REQUEST_METHOD") == "POST" and form.get("form.button.checkpoint"):
            self.sign_checkpoint()
        elif form.get("verify"):
            self.verify()
        return self.index()

    def sign_checkpoint(self):
        from plone.protect import CheckAuthenticator

        CheckAuthenticator(self.request)
        store = self.store()
        if store is None:
            return
        record("audit.checkpoint", details={"reason": "on_demand"})
        cp = checkpoint(store, portal=self.context, reason="on_demand")
        if cp is not None:
            self.message = translate(
                _("audit_checkpoint_done", default="已对第 ${sequence} 条记录签名。", mapping={"sequence": cp["sequence"]}),
                context=self.request,
            )

    def verify(self):
        store = self.store()
        if store is None:
            return
        result = verify_chain(store)
        first = result.first
        record(
            "audit.verify",
            details={"ok": result.ok, "records": result.records, "first": first.as_dict() if first else None},
        )
        data = result.as_dict()
        data["problem_lines"] = [str(p) for p in sorted(result.problems, key=lambda p: p.sequence)]
        self.verification = data

    def query(self):
        try:
            return parse_filters(self.request.form)
        except FilterError as error:
            self.error = translate(error.message, context=self.request)
            return {}, None

    def results(self):
        entered, query = self.query()
        store = self.store()
        seqs = search(store, **query) if store is not None and query is not None else []
        b_start = self.request.form.get("b_start", 0)
        try:
            b_start = max(int(b_start), 0)
        except (TypeError, ValueError):
            b_start = 0
        return Batch(seqs, PAGE_SIZE, b_start)

    def row(self, seq):
        rec = self.store().get(seq)
        rec["action_title"] = action_title(rec["action"], self.request)
        rec["details_text"] = details_text(rec["details"])
        return rec

    def export_url(self):
        entered, query = self.query()
        base = f"{self.context.absolute_url()}/@@audit-log-export"
        return f"{base}?{urlencode(entered)}" if entered else base

    def head(self):
        store = self.store()
        if store is None:
            return None
        return {"chain_id": store.chain_id, "last_sequence": store.last_seq, "head_hash": store.head_hash}


EXCEL_COLUMNS = (
    ("sequence", _("audit_col_sequence", default="序号")),
    ("timestamp_local", _("audit_col_time_local", default="时间（北京时间）")),
    ("timestamp", _("audit_col_time_utc", default="时间（UTC）")),
    ("actor", _("audit_col_actor", default="操作人")),
    ("address", _("audit_col_address", default="IP 地址")),
    ("peer", _("audit_col_peer", default="直连地址")),
    ("action", _("audit_col_action", default="操作")),
    ("action_title", _("audit_col_action_title", default="操作说明")),
    ("target", _("audit_col_target", default="对象")),
    ("details", _("audit_col_details", default="详情")),
    ("prev_hash", _("audit_col_prev_hash", default="前一条哈希（SM3）")),
    ("hash", _("audit_col_hash", default="本条哈希（SM3）")),
)


def write_workbook(store, seqs, request) -> bytes:
    """The records *seqs* as an .xlsx through core/excel (streamed, formulas neutralised)."""
    from finserv.core.excel import Column
    from finserv.core.excel import export_xlsx

    columns = [Column(header=translate(title, context=request), field=name) for name, title in EXCEL_COLUMNS]
    titles = {}

    def rows():
        for seq in seqs[:EXCEL_MAX_ROWS]:
            rec = store.get(seq)
            if rec is None:
                continue
            action = rec.get("action", "")
            if action not in titles:
                titles[action] = action_title(action, request)
            rec["action_title"] = titles[action]
            rec["details"] = details_text(rec.get("details"))
            yield rec

    return export_xlsx(rows(), columns, title=translate(_("audit_sheet", default="审计日志"), context=request))


class AuditLogExport(BrowserView):
    """@@audit-log-export: the records matching the filters as Excel; the export is itself audited."""

    def __call__(self):
        try:
            entered, query = parse_filters(self.request.form)
        except FilterError as error:
            self.request.response.setStatus(400)
            self.request.response.setHeader("Content-Type", "text/plain; charset=utf-8")
            return translate(error.message, context=self.request)
        store = get_store(self.context)
        seqs = search(store, **query) if store is not None else []
        data = write_workbook(store, seqs, self.request) if store is not None else b""
        record("audit.export", details={"filters": entered, "rows": min(len(seqs), EXCEL_MAX_ROWS)})
        stamp = datetime.datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M%S")
        response = self.request.response
        response.setHeader("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response.setHeader("Content-Disposition", f'attachment; filename="audit-log-{stamp}.xlsx"')
        response.setHeader("Content-Length", str(len(data)))
        response.setHeader("Cache-Control", "no-store")
        return data


__all__ = ["AuditLogExport", "AuditLogView", "parse_filters", "write_workbook"]
