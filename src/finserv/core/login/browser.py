"""Classic UI: two-step login, authenticator enrolment, reset by code, administrator unlock.

* ``@@login`` / ``@@login_form`` (replaced on this site's layer): Plone's login form, but a
  locked account gets our message, and a user who needs a second factor is sent to
  ``@@login-2fa`` holding a short signed ticket cookie instead of a session cookie.
* ``@@login-2fa``: the code step (authenticator app or SMS); staff without any factor enrol an
  authenticator here before their first session is issued.
* ``@@twofactor-settings``: a member's own authenticator app (optional for the public).
* ``@@password-reset-code``: self-service reset with a code sent by SMS or e-mail.
* ``@@login-lockouts``: locked accounts and the unlock button (user administrators).
"""

from __future__ import annotations


from finserv import _
from zope.i18nmessageid import Message
from finserv.core.login import flows
from finserv.core.login import lockout
from finserv.core.login import totp
from finserv.core.login import twofactor
from finserv.core.login.plugin import LoginResult
from finserv.core.login.plugin import last_result
from finserv.core.login.utils import audit
from finserv.core.login.utils import audit_durable
from finserv.core.login.utils import login_target
from finserv.core.login.utils import user_target
from finserv.core.login.utils import get_plugin
from finserv.core.login.utils import tr
from plone.base import PloneMessageFactory as PMF
from plone.protect import CheckAuthenticator
from plone.protect.interfaces import IDisableCSRFProtection
from Products.CMFCore.utils import getToolByName
from Products.CMFPlone.browser.login.login import LoginForm as PloneLoginForm
from Products.Five.browser import BrowserView
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from Products.statusmessages.interfaces import IStatusMessage
from z3c.form import button
from zope.interface import alsoProvides

MSG_TICKET_EXPIRED = _("login_2fa_expired", default="登录已超时，请重新输入用户名和密码。")
MSG_SMS_SENT = _("login_2fa_sms_sent", default="验证码已发送至 ${mobile}，${minutes} 分钟内有效。")
MSG_ENROLLED = _("login_2fa_enrolled", default="身份验证器已绑定，以后登录时请输入其显示的验证码。")


def _safe_came_from(context, url):
    if not url:
        return None
    portal_url = getToolByName(context, "portal_url")
    return url if portal_url.isURLInPortal(url) else None


class LoginForm(PloneLoginForm):
    """Plone's login form with lockout messages and the hand-over to the code step."""

    index = ViewPageTemplateFile("templates/login.pt")

    @button.buttonAndHandler(PMF("Log in"), name="login")
    def handleLogin(self, action):
        result = last_result(self.request)
        membership = getToolByName(self.context, "portal_membership")
        if result is None or result.ok or not membership.isAnonymousUser():
            return PloneLoginForm.handleLogin(self, action)
        data, errors = self.extractData()
        if result.status in (LoginResult.TWOFACTOR_REQUIRED, LoginResult.TWOFACTOR_SETUP):
            plugin = get_plugin()
            user = plugin.get_user(result.userid)
            secret = None if twofactor.methods(plugin, user) else totp.new_secret()
            secure = self.request.get("SERVER_URL", "").startswith("https")
            self.request.response.setCookie(
                twofactor.TICKET_COOKIE,
                twofactor.make_ticket(result.userid, result.login, secret),
                path="/",
                http_only=True,
                same_site="Lax",
                secure=secure,
            )
            url = self.context.absolute_url() + "/@@login-2fa"
            came_from = _safe_came_from(self.context, data.get("came_from"))
            if came_from:
                from urllib.parse import urlencode

                url += "?" + urlencode({"came_from": came_from})
            self.request.response.redirect(url)
            return
        self.request.response.expireCookie("__ac", path="/")
        IStatusMessage(self.request).addStatusMessage(tr(result.message(), self.request), "error")


class TwoFactorLoginView(BrowserView):
    """@@login-2fa: the second step of the browser login (public; needs the ticket cookie).

    CSRF: the view acts only for the holder of the signed ticket cookie (SameSite=Lax, so not
    sent with cross-site POSTs) who also types a valid code, so plone.protect's token check,
    which cannot work across the change of user, is switched off here.
    """

    template = ViewPageTemplateFile("templates/login_2fa.pt")

    def __call__(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        self.plugin = get_plugin()
        self.ticket = twofactor.read_ticket(self.request.cookies.get(twofactor.TICKET_COOKIE))
        self.user = self.plugin.get_user(self.ticket["u"]) if self.ticket and self.plugin is not None else None
        if self.user is None:
            return self._restart(MSG_TICKET_EXPIRED)
        self.methods = twofactor.methods(self.plugin, self.user)
        self.enrol_secret = self.ticket.get("secret") if not totp.is_enrolled(self.plugin, self.user.getId()) else None
        form = self.request.form
        if self.request.method == "POST":
            if "form.send_sms" in form:
                return self._send_sms()
            if "form.submit" in form:
                return self._verify(form.get("code", ""))
        return self.template()

    # helpers for the template
    def came_from(self):
        return _safe_came_from(self.context, self.request.form.get("came_from")) or ""

    def mobile(self):
        from finserv.core.login.mobile import mask
        from finserv.core.login.mobile import user_mobile

        number = user_mobile(self.user)
        return mask(number) if number else None

    def enrolment(self):
        if not self.enrol_secret:
            return None
        uri = totp.provisioning_uri(self.enrol_secret, self.user.getUserName(), flows.issuer())
        return {"secret": self.enrol_secret, "qr": totp.qr_data_uri(uri)}

    def _message(self, message, kind="error"):
        IStatusMessage(self.request).addStatusMessage(tr(message, self.request), kind)

    def _restart(self, message):
        self.request.response.expireCookie(twofactor.TICKET_COOKIE, path="/")
        self._message(message)
        return self.request.response.redirect(self.context.absolute_url() + "/login")

    def _send_sms(self):
        sent, wait, masked = twofactor.send_sms(self.plugin, self.user)
        if sent:
            self._message(Message(MSG_SMS_SENT, mapping={"mobile": masked, "minutes": flows.code_minutes()}), "info")
        elif wait:
            self._message(Message(flows.MSG_TOO_OFTEN, mapping={"seconds": wait}))
        return self.template()

    def _verify(self, code):
        login = self.ticket["l"]
        userid = self.user.getId()
        if lockout.locked_until(self.plugin, login):
            result = LoginResult(LoginResult.LOCKED, userid, login, locked_until=lockout.locked_until(self.plugin, login))
            return self._restart(result.message())
        if self.enrol_secret:
            ok = totp.confirm(self.plugin, userid, code, secret=self.enrol_secret)
            if ok:
                audit("twofactor.enabled", target=user_target(userid), details={"method": "totp", "at_login": True})
                self._message(MSG_ENROLLED, "info")
        else:
            ok = twofactor.verify(self.plugin, self.user, code)
        if not ok:
            count, until = lockout.record_failure(self.plugin, login)
            audit_durable("twofactor.failure", user_target(userid), {"channel": "browser", "failures": count})
            if until:
                audit_durable("login.lockout", login_target(login), {"failures": count, "until": until, "channel": "browser"})
                return self._restart(LoginResult(LoginResult.LOCKED, userid, login, locked_until=until).message())
            self._message(LoginResult(LoginResult.TWOFACTOR_INVALID).message())
            return self.template()
        lockout.reset(self.plugin, login)
        self.request.response.expireCookie(twofactor.TICKET_COOKIE, path="/")
        flows.post_login(self.context, self.request, self.user)
        came_from = self.came_from() or self.context.absolute_url()
        return self.request.response.redirect(came_from)


class TwoFactorSettingsView(BrowserView):
    """@@twofactor-settings: enable or disable the authenticator app (logged-in members)."""

    template = ViewPageTemplateFile("templates/twofactor_settings.pt")
    setup = None

    def __call__(self):
        from plone import api

        self.plugin = get_plugin()
        self.user = self.plugin.get_user(api.user.get_current().getId())
        form = self.request.form
        if self.request.method == "POST":
            CheckAuthenticator(self.request)
            try:
                if "form.setup" in form:
                    self.setup = flows.twofactor_setup(self.plugin, self.user)
                elif "form.confirm" in form:
                    result = flows.twofactor_confirm(self.plugin, self.user, form.get("code"))
                    IStatusMessage(self.request).addStatusMessage(result["message"], "info")
                elif "form.disable" in form:
                    result = flows.twofactor_disable(self.plugin, self.user, form.get("code"))
                    IStatusMessage(self.request).addStatusMessage(result["message"], "info")
            except flows.FlowError as exc:
                IStatusMessage(self.request).addStatusMessage(tr(exc.message, self.request), "error")
                if "form.confirm" in form and self.plugin.totp.get(self.user.getId(), {}).get("pending"):
                    self.setup = self._pending_setup()
        return self.template()

    def _pending_setup(self):
        record = self.plugin.totp.get(self.user.getId(), {})
        secret = totp.decrypt_secret(self.user.getId(), record["pending"])
        uri = totp.provisioning_uri(secret, self.user.getUserName(), flows.issuer())
        return {"secret": secret, "otpauth_uri": uri, "qr": totp.qr_data_uri(uri)}

    def status(self):
        return flows.twofactor_status(self.plugin, self.user)


class ResetByCodeView(BrowserView):
    """@@password-reset-code: forgot password — a code by SMS or e-mail, then a new password."""

    template = ViewPageTemplateFile("templates/reset_by_code.pt")
    step = 1

    def __call__(self):
        self.plugin = get_plugin()
        form = self.request.form
        if self.request.method == "POST":
            CheckAuthenticator(self.request)
            try:
                if "form.send" in form:
                    result = flows.send_reset_code(
                        self.plugin, form.get("login") or None, form.get("mobile") or None, form.get("channel") or None
                    )
                    IStatusMessage(self.request).addStatusMessage(result["message"], "info")
                    self.step = 2
                elif "form.reset" in form:
                    self.step = 2
                    if form.get("new_password") != form.get("new_password_ctl"):
                        raise flows.FlowError(400, "Mismatch", _("reset_mismatch", default="两次输入的新密码不一致。"))
                    result = flows.reset_with_code(
                        self.plugin, self.request, form.get("code"), form.get("new_password"),
                        form.get("login") or None, form.get("mobile") or None,
                    )
                    IStatusMessage(self.request).addStatusMessage(result["message"], "info")
                    return self.request.response.redirect(self.context.absolute_url() + "/login")
            except flows.FlowError as exc:
                IStatusMessage(self.request).addStatusMessage(tr(exc.message, self.request), "error")
        return self.template()


class LockoutsView(BrowserView):
    """@@login-lockouts: locked logins and their unlock button (permission: Users and Groups)."""

    template = ViewPageTemplateFile("templates/lockouts.pt")

    def __call__(self):
        self.plugin = get_plugin()
        form = self.request.form
        if self.request.method == "POST" and form.get("login"):
            CheckAuthenticator(self.request)
            flows.unlock(self.plugin, form.get("login"))
            IStatusMessage(self.request).addStatusMessage(
                tr(_("login_unlocked", default="账号 ${login} 已解锁。", mapping={"login": form.get("login")}), self.request), "info"
            )
            return self.request.response.redirect(self.context.absolute_url() + "/@@login-lockouts")
        return self.template()

    def items(self):
        import datetime

        tz = datetime.timezone(datetime.timedelta(hours=8))
        result = []
        for item in lockout.locked_logins(self.plugin):
            item = dict(item)
            item["until"] = datetime.datetime.fromtimestamp(item["locked_until"], tz).strftime("%Y-%m-%d %H:%M:%S")
            result.append(item)
        return result
