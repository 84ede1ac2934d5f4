"""REST API of login security (the mini-program and H5 pages).

* ``POST @login`` (replaces plone.restapi's on this site): ``{login, password[, otp][, send_sms]}``
  → ``{"token"}``; 401 ``{"type": "TwoFactorRequired", "methods": [...]}`` when a second factor is
  due (``send_sms: true`` sends an SMS code), ``TwoFactorInvalid``, ``AccountLocked``,
  ``TwoFactorSetupRequired``, or ``Invalid credentials``.
* ``POST @login-sms-code`` ``{mobile}`` and ``POST @login-sms`` ``{mobile, code}`` → ``{"token"}``.
* ``POST @password-reset-code`` ``{login, channel}`` or ``{mobile}``;
  ``POST @password-reset`` ``{login | mobile, code, new_password}``.
* ``GET/POST @twofactor`` (logged-in user): status, ``{"action": "setup" | "confirm" | "disable"}``.
* ``GET @login-lockouts`` and ``POST @login-unlock`` ``{login | userid}`` (user administrators).

Error bodies carry ``type`` and a Chinese ``message`` both at the top level and, as plone.restapi
does, under ``error``.
"""

from __future__ import annotations

from finserv import _

from finserv.core.login import flows
from finserv.core.login import lockout
from finserv.core.login import twofactor
from finserv.core.login.plugin import LoginResult
from finserv.core.login.utils import get_plugin
from finserv.core.login.utils import tr
from plone.protect.interfaces import IDisableCSRFProtection
from plone.restapi.deserializer import json_body
from plone.restapi.services import Service
from plone.restapi.services.auth.login import Login as RestapiLogin
from Products.CMFCore.utils import getToolByName
from Products.PluggableAuthService.interfaces.plugins import IAuthenticationPlugin
from zope.interface import alsoProvides

RESULT_TYPES = {
    LoginResult.INVALID: "Invalid credentials",
    LoginResult.LOCKED: "AccountLocked",
    LoginResult.TWOFACTOR_REQUIRED: "TwoFactorRequired",
    LoginResult.TWOFACTOR_INVALID: "TwoFactorInvalid",
    LoginResult.TWOFACTOR_SETUP: "TwoFactorSetupRequired",
}


def error_body(type_, message, **extra):
    message = tr(message)
    body = {"type": type_, "message": message, "error": {"type": type_, "message": message}}
    body.update(extra)
    body["error"].update(extra)
    return body


class _Base(Service):
    def _body(self) -> dict:
        data = json_body(self.request)
        return data if isinstance(data, dict) else {}

    def _fail(self, exc: flows.FlowError):
        self.request.response.setStatus(exc.status)
        if exc.extra.get("retry_after"):
            self.request.response.setHeader("Retry-After", str(exc.extra["retry_after"]))
        return error_body(exc.type, exc.message, **exc.extra)

    def _plugin(self):
        plugin = get_plugin()
        if plugin is None:
            raise flows.FlowError(501, "NotInstalled", _("login_not_installed", default="登录安全组件未安装"))
        return plugin

    def _jwt(self):
        acl_users = getToolByName(self.context, "acl_users")
        for _id, plugin in acl_users.plugins.listPlugins(IAuthenticationPlugin):
            if plugin.meta_type == "JWT Authentication Plugin":
                return plugin
        raise flows.FlowError(501, "Login failed", _("login_no_jwt", default="JWT 认证插件未安装"))

    def _token(self, user):
        return self._jwt().create_token(user.getId(), data={"fullname": user.getProperty("fullname", "")})


class Login(RestapiLogin, _Base):
    """POST @login with lockout and two-factor authentication (permission: public)."""

    def reply(self):
        data = self._body()
        login, password = data.get("login"), data.get("password")
        if not isinstance(login, str) or not isinstance(password, str) or not login:
            self.request.response.setStatus(400)
            return error_body("Missing credentials", _("login_missing_credentials", default="请在请求正文中提供用户名（login）和密码（password）。"))
        alsoProvides(self.request, IDisableCSRFProtection)
        plugin = get_plugin()
        acl_users = getToolByName(self.context, "acl_users")
        if plugin is None or (
            acl_users._verifyUser(acl_users.plugins, login=login) is None
            and self._find_userfolder(login) not in (None, acl_users)
        ):
            return super().reply()  # a Zope administrator from the root user folder
        otp = data.get("otp") if isinstance(data.get("otp"), (str, int)) else None
        result = plugin.check_login(login, password, str(otp) if otp is not None else None, self.request, "rest")
        if not result.ok:
            return self._refuse(plugin, result, bool(data.get("send_sms")))
        user = acl_users.getUserById(result.userid)
        flows.post_login(self.context, self.request, user, password)
        return {"token": self._token(user)}

    def _refuse(self, plugin, result, send_sms):
        self.request.response.setStatus(401)
        extra = {}
        if result.status in (LoginResult.TWOFACTOR_REQUIRED, LoginResult.TWOFACTOR_INVALID, LoginResult.TWOFACTOR_SETUP):
            extra["methods"] = result.methods
            if send_sms and twofactor.SMS in result.methods:
                sent, wait, masked = twofactor.send_sms(plugin, plugin.get_user(result.userid))
                extra.update({"sms_sent": sent, "mobile": masked})
                if wait:
                    extra["retry_after"] = wait
        if result.status == LoginResult.LOCKED:
            extra["retry_after"] = max(0, int(result.locked_until - lockout.clock.now()))
        return error_body(RESULT_TYPES[result.status], result.message(), **extra)


class LoginSMSCode(_Base):
    """POST @login-sms-code {mobile}: send a login code (public; rate limited)."""

    def check_permission(self):
        pass

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        try:
            return flows.send_login_code(self._plugin(), self._body().get("mobile"))
        except flows.FlowError as exc:
            return self._fail(exc)


class LoginSMS(_Base):
    """POST @login-sms {mobile, code}: a JWT for the member with that mobile (public)."""

    def check_permission(self):
        pass

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        data = self._body()
        try:
            user = flows.login_with_code(self._plugin(), data.get("mobile"), data.get("code"))
            flows.post_login(self.context, self.request, user)
            return {"token": self._token(user), "userid": user.getId()}
        except flows.FlowError as exc:
            return self._fail(exc)


class PasswordResetCode(_Base):
    """POST @password-reset-code {login, channel: sms|email} or {mobile} (public)."""

    def check_permission(self):
        pass

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        data = self._body()
        try:
            return flows.send_reset_code(self._plugin(), data.get("login"), data.get("mobile"), data.get("channel"))
        except flows.FlowError as exc:
            return self._fail(exc)


class PasswordReset(_Base):
    """POST @password-reset {login | mobile, code, new_password} (public)."""

    def check_permission(self):
        pass

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        data = self._body()
        try:
            return flows.reset_with_code(
                self._plugin(), self.request, data.get("code"), data.get("new_password"), data.get("login"), data.get("mobile")
            )
        except flows.FlowError as exc:
            return self._fail(exc)


class TwoFactor(_Base):
    """GET/POST @twofactor: the logged-in user's authenticator app (any authenticated user).

    Every change needs a code from the authenticator, which a cross-site request cannot
    know, so the service opts out of plone.protect's CSRF check.
    """

    def _user(self):
        from plone import api

        if api.user.is_anonymous():
            raise flows.FlowError(401, "Unauthorized", _("login_required", default="请先登录。"))
        return api.user.get_current()

    def reply(self):
        try:
            plugin = self._plugin()
            member = self._user()
            user = plugin.get_user(member.getId())
            if self.request.method == "GET":
                return flows.twofactor_status(plugin, user)
            alsoProvides(self.request, IDisableCSRFProtection)
            data = self._body()
            action = data.get("action")
            if action == "setup":
                return flows.twofactor_setup(plugin, user)
            if action == "confirm":
                return flows.twofactor_confirm(plugin, user, data.get("code"))
            if action == "disable":
                return flows.twofactor_disable(plugin, user, data.get("code"))
            raise flows.FlowError(400, "InvalidAction", _("twofactor_invalid_action", default="action 须为 setup、confirm 或 disable。"))
        except flows.FlowError as exc:
            return self._fail(exc)


class Lockouts(_Base):
    """GET @login-lockouts: logins locked now (permission: Users and Groups)."""

    def reply(self):
        items = lockout.locked_logins(self._plugin())
        return {"items": items, "items_total": len(items)}


class Unlock(_Base):
    """POST @login-unlock {login | userid} (permission: Users and Groups)."""

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        data = self._body()
        try:
            was_locked = flows.unlock(self._plugin(), data.get("login"), data.get("userid"))
        except flows.FlowError as exc:
            return self._fail(exc)
        return {"unlocked": True, "was_locked": was_locked, "message": tr(_("login_unlocked_plain", default="账号已解锁。"))}
