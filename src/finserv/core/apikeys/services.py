"""REST administration of API keys: GET/POST @api-keys, DELETE @api-keys/<id> (revoke)."""

from finserv import _
from finserv.core import apikeys
from finserv.core.audit import record
from finserv.core.login.twofactor import is_staff
from plone import api
from plone.protect.interfaces import IDisableCSRFProtection
from plone.restapi.deserializer import json_body
from plone.restapi.services import Service
from zope.globalrequest import getRequest
from zope.i18n import translate
from zope.interface import alsoProvides
from zope.interface import implementer
from zope.publisher.interfaces import IPublishTraverse


def _t(message):
    return translate(message, context=getRequest())


def create_key(portal, data: dict):
    """Validate and issue; returns (status, body). Shared by the REST service and the page."""
    name = str(data.get("name") or "").strip()
    principal = str(data.get("principal") or "").strip()
    if not name or not principal:
        return 400, {"type": "BadRequest", "message": _t(_("apikey_error_name", default="请填写密钥名称和调用身份（用户名）。"))}
    user = api.user.get(userid=principal)
    if user is None:
        return 400, {"type": "BadRequest", "message": _t(_("apikey_error_principal", default="用户“${principal}”不存在：请先为调用方创建用户。", mapping={"principal": principal}))}
    if is_staff(user):
        # Staff log in with a second factor; a key would let a program act as them without it.
        return 400, {"type": "BadRequest", "message": _t(_("apikey_error_staff", default="API 密钥只能签发给机构系统账户，不能签发给工作人员或管理员账户。"))}
    try:
        endpoints = apikeys.parse_endpoints(data.get("endpoints") or [])
    except ValueError:
        return 400, {"type": "BadRequest", "message": _t(_("apikey_error_endpoints", default="请填写允许调用的接口，例如 @loans；* 表示全部接口。"))}
    try:
        ranges = apikeys.parse_ranges(data.get("ip_ranges") or [])
    except ValueError:
        return 400, {"type": "BadRequest", "message": _t(_("apikey_error_ip", default="IP 地址段格式不正确，例如 10.1.2.0/24。"))}
    try:
        raw = data.get("rate_limit")
        rate = 60 if raw in (None, "") else int(raw)
    except (TypeError, ValueError):
        rate = 0
    if not 1 <= rate <= 100000:
        return 400, {"type": "BadRequest", "message": _t(_("apikey_error_rate", default="频率限制须为每分钟 1 到 100000 次。"))}
    key, info = apikeys.issue(portal, name, principal, endpoints, ranges, rate, issued_by=api.user.get_current().getId())
    record("apikey.issued", target=info["id"], details={"name": name, "principal": principal, "endpoints": endpoints, "ip_ranges": ranges})
    return 201, {"key": key, "info": info, "message": _t(_("apikey_save_now", default="请立即保存此密钥：它只显示这一次。"))}


def revoke_key(portal, key_id: str):
    if not apikeys.revoke(portal, key_id, revoked_by=api.user.get_current().getId()):
        return 404, {"type": "NotFound", "message": _t(_("apikey_error_unknown", default="没有这个有效的 API 密钥。"))}
    record("apikey.revoked", target=key_id)
    return 204, None


class ApiKeysGet(Service):
    def reply(self):
        return {"items": apikeys.list_keys(self.context)}


class ApiKeysPost(Service):
    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        status, body = create_key(self.context, json_body(self.request) or {})
        self.request.response.setStatus(status)
        return body


@implementer(IPublishTraverse)
class ApiKeysDelete(Service):
    key_id = None

    def publishTraverse(self, request, name):
        self.key_id = name
        return self

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        status, body = revoke_key(self.context, self.key_id or "")
        if status == 204:
            return self.reply_no_content()
        self.request.response.setStatus(status)
        return body
