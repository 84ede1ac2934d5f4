"""The login flows shared by the REST services and the Classic UI views.

Each function returns plain data or raises :class:`FlowError` with an HTTP status, a machine
type and a Chinese message — the REST layer turns it into JSON, the views into a status message.
"""

from __future__ import annotations

from AccessControl.SecurityManagement import newSecurityManager
from finserv import _
from zope.i18nmessageid import Message
from finserv.core.login import codes
from finserv.core.login import lockout
from finserv.core.login import mobile as mobiles
from finserv.core.login import policy
from finserv.core.login import totp
from finserv.core.login import twofactor
from finserv.core.login.config import setting
from finserv.core.login.utils import audit
from finserv.core.login.utils import login_target
from finserv.core.login.utils import user_target
from finserv.core.login.utils import tr
from finserv.core.notify import send
from zope.component import getMultiAdapter

MSG_BAD_MOBILE = _("login_bad_mobile", default="手机号码格式不正确，请输入 11 位手机号码。")
MSG_CODE_SENT = _("login_code_sent", default="验证码已发送，${minutes} 分钟内有效，请注意查收。")
MSG_RESET_SENT = _("reset_code_sent", default="如果账号信息正确，验证码已发送，${minutes} 分钟内有效。")
MSG_TOO_OFTEN = _("login_code_too_often", default="验证码发送过于频繁，请 ${seconds} 秒后再试。")
MSG_BAD_CODE = _("login_bad_code", default="验证码错误或已过期，请重新获取。")
MSG_SMS_STAFF = _("login_sms_staff", default="工作人员账号请使用用户名、密码和双因素认证登录。")
MSG_MISSING = _("login_missing_fields", default="请填写${fields}。")
MSG_RESET_DONE = _("reset_done", default="密码已重置，请使用新密码登录。")
MSG_NO_CONTACT = _("reset_no_channel", default="请选择通过短信或邮件接收验证码。")


class FlowError(Exception):
    def __init__(self, status: int, type_: str, message, **extra):
        super().__init__(message)
        self.status, self.type, self.message, self.extra = status, type_, message, extra


def code_minutes() -> int:
    return int(setting("code_minutes"))


def require_mobile(value) -> str:
    number = mobiles.normalise(value)
    if not number:
        raise FlowError(400, "InvalidMobile", MSG_BAD_MOBILE)
    return number


def _too_often(wait):
    return FlowError(429, "TooManyRequests", Message(MSG_TOO_OFTEN, mapping={"seconds": wait}), retry_after=wait)


def sms_login_candidate(plugin, number):
    """The one non-staff member whose mobile is *number*, or None."""
    userids = mobiles.users_for(plugin, number)
    if len(userids) != 1:
        return None
    user = plugin.get_user(userids[0])
    if user is None or twofactor.is_staff(user):
        return None
    return user


def send_login_code(plugin, value) -> dict:
    """@login-sms-code: send a login code; unknown numbers get the same answer and nothing."""
    number = require_mobile(value)
    index = mobiles.index_of(number)
    user = sms_login_candidate(plugin, number)
    code, wait = codes.issue(
        plugin, codes.LOGIN_SMS, index, userid=user.getId() if user else None, rate_key=f"sms:{index}", store_code=user is not None
    )
    if wait:
        raise _too_often(wait)
    if user is not None:
        send("sms", number, "sms_login_code", code=code, minutes=code_minutes())
    return {
        "message": tr(Message(MSG_CODE_SENT, mapping={"minutes": code_minutes()})),
        "expires_in": code_minutes() * 60,
        "retry_after": int(setting("sms_interval_seconds")),
    }


def login_with_code(plugin, value, code):
    """@login-sms: the member for a correct, fresh, unused code (else FlowError 401)."""
    number = require_mobile(value)
    if not code:
        raise FlowError(400, "MissingCode", Message(MSG_MISSING, mapping={"fields": tr(_("field_code", default="验证码"))}))
    check = codes.verify(plugin, codes.LOGIN_SMS, mobiles.index_of(number), str(code))
    user = plugin.get_user(check.userid) if check.ok and check.userid else None
    if user is None:
        raise FlowError(401, "InvalidCode", MSG_BAD_CODE)
    if twofactor.is_staff(user):
        raise FlowError(403, "TwoFactorRequired", MSG_SMS_STAFF)
    until = lockout.locked_until(plugin, user.getUserName())
    if until:
        from finserv.core.login.plugin import LoginResult

        raise FlowError(401, "AccountLocked", LoginResult(LoginResult.LOCKED, locked_until=until).message())
    audit("sms.login", target=user_target(user.getId()), details={"mobile": mobiles.mask(number)})
    return user


def post_login(context, request, user, password=""):
    """What Plone does after a login: security context, login times, session cookie."""
    newSecurityManager(request, user)
    request.form["__ac_password"] = password
    getMultiAdapter((context, request), name="login")._post_login()


def reset_target(plugin, login=None, mobile=None):
    """(user, channel hint) for a reset request by login or mobile; user None if unknown."""
    if mobile:
        number = require_mobile(mobile)
        userids = mobiles.users_for(plugin, number)
        user = plugin.get_user(userids[0]) if len(userids) == 1 else None
        return user, "sms"
    if login:
        pas = plugin._getPAS()
        user = pas.getUser(login)
        return user, None
    raise FlowError(400, "MissingLogin", Message(MSG_MISSING, mapping={"fields": tr(_("field_login_or_mobile", default="用户名或手机号码"))}))


def send_reset_code(plugin, login=None, mobile=None, channel=None) -> dict:
    """@password-reset-code: a reset code by SMS or e-mail. Same answer for unknown accounts."""
    user, hint = reset_target(plugin, login, mobile)
    channel = hint or channel or "sms"
    if channel not in ("sms", "email"):
        raise FlowError(400, "InvalidChannel", MSG_NO_CONTACT)
    recipient = None
    if user is not None:
        if channel == "sms":
            recipient = mobiles.user_mobile(user)
        else:
            recipient = user.getProperty("email", "") or None
    if channel == "sms" and recipient:
        rate_key = f"sms:{mobiles.index_of(recipient)}"
    elif user is not None:
        rate_key = f"reset-{channel}:{user.getId()}"
    else:
        rate_key = f"reset-{channel}:{lockout.login_key(login or '')}:{mobiles.index_of(mobiles.normalise(mobile)) if mobile else ''}"
    code, wait = codes.issue(
        plugin, codes.RESET, user.getId() if user else "-", userid=user.getId() if user else None, rate_key=rate_key,
        store_code=bool(recipient),
    )
    if wait:
        raise _too_often(wait)
    if recipient:
        if channel == "sms":
            send("sms", recipient, "sms_reset_code", code=code, minutes=code_minutes())
        else:
            send(
                "email", recipient, "email_reset_code", code=code, minutes=code_minutes(),
                fullname=user.getProperty("fullname", "") or user.getUserName(),
            )
        audit("password.reset_requested", target=user_target(user.getId()), details={"channel": channel})
    return {"message": tr(Message(MSG_RESET_SENT, mapping={"minutes": code_minutes()})), "expires_in": code_minutes() * 60}


def reset_with_code(plugin, request, code, new_password, login=None, mobile=None) -> dict:
    """@password-reset: check the code, apply the policy, set the password, lift any lock."""
    if not code or not new_password:
        raise FlowError(400, "MissingFields", Message(MSG_MISSING, mapping={"fields": tr(_("field_code_and_password", default="验证码和新密码"))}))
    user, _hint = reset_target(plugin, login, mobile)
    rules = policy.check_rules(new_password, user.getUserName() if user is not None else login)
    if rules:
        raise FlowError(400, "InvalidPassword", "；".join(tr(m) for m in rules))
    if user is None:
        codes.verify(plugin, codes.RESET, "-", str(code))  # same work as for a real account
        raise FlowError(400, "InvalidCode", MSG_BAD_CODE)
    userid = user.getId()
    check = codes.verify(plugin, codes.RESET, userid, str(code), consume=False)
    if not check.ok:
        raise FlowError(400, "InvalidCode", MSG_BAD_CODE)
    if policy.in_history(plugin, userid, new_password):
        raise FlowError(400, "InvalidPassword", tr(policy.reused_message()))
    request.set(policy.TARGET_MARKER, (userid, user.getUserName()))
    plugin._getPAS().userSetPassword(userid, new_password)
    codes.consume(plugin, codes.RESET, userid)
    lockout.reset(plugin, user.getUserName())
    return {"message": tr(MSG_RESET_DONE)}


# --- authenticator enrolment (@twofactor and @@twofactor-settings) ----------------------------

MSG_2FA_ENABLED = _("twofactor_enabled", default="已启用身份验证器双因素认证。")
MSG_2FA_DISABLED = _("twofactor_disabled", default="已关闭身份验证器双因素认证。")
MSG_2FA_STAFF = _("twofactor_staff_required", default="工作人员账号必须启用双因素认证，不能关闭。")
MSG_2FA_BAD = _("twofactor_bad_code", default="验证码不正确，请核对手机上身份验证器显示的 6 位数字。")
MSG_2FA_NOT_STARTED = _("twofactor_not_started", default="请先生成新的密钥并用身份验证器扫描二维码。")


def twofactor_status(plugin, user) -> dict:
    userid = user.getId()
    number = mobiles.user_mobile(user)
    return {
        "enabled": totp.is_enrolled(plugin, userid),
        "required": twofactor.required(plugin, user),
        "staff": twofactor.is_staff(user),
        "methods": twofactor.methods(plugin, user),
        "mobile": mobiles.mask(number) if number else None,
    }


def issuer() -> str:
    from plone.registry.interfaces import IRegistry
    from zope.component import queryUtility

    registry = queryUtility(IRegistry)
    return (registry.get("plone.site_title") if registry is not None else None) or "finserv"


def twofactor_setup(plugin, user) -> dict:
    secret = totp.begin(plugin, user.getId())
    uri = totp.provisioning_uri(secret, user.getUserName(), issuer())
    return {"secret": secret, "otpauth_uri": uri, "qr": totp.qr_data_uri(uri)}


def twofactor_confirm(plugin, user, code) -> dict:
    if not plugin.totp.get(user.getId(), {}).get("pending"):
        raise FlowError(400, "NotStarted", MSG_2FA_NOT_STARTED)
    if not totp.confirm(plugin, user.getId(), str(code or "")):
        raise FlowError(400, "InvalidCode", MSG_2FA_BAD)
    audit("twofactor.enabled", target=user_target(user.getId()), details={"method": "totp"})
    return {"message": tr(MSG_2FA_ENABLED), **twofactor_status(plugin, user)}


def twofactor_disable(plugin, user, code) -> dict:
    if twofactor.is_staff(user):
        raise FlowError(403, "TwoFactorRequired", MSG_2FA_STAFF)
    if not totp.verify(plugin, user.getId(), str(code or "")):
        raise FlowError(400, "InvalidCode", MSG_2FA_BAD)
    totp.disable(plugin, user.getId())
    audit("twofactor.disabled", target=user_target(user.getId()), details={"method": "totp"})
    return {"message": tr(MSG_2FA_DISABLED), **twofactor_status(plugin, user)}


def unlock(plugin, login=None, userid=None) -> bool:
    """Administrator unlock of a login (or of the login of *userid*)."""
    if userid and not login:
        user = plugin.get_user(userid)
        login = user.getUserName() if user is not None else userid
    if not login:
        raise FlowError(400, "MissingLogin", Message(MSG_MISSING, mapping={"fields": tr(_("field_login", default="用户名"))}))
    was_locked = bool(lockout.locked_until(plugin, login))
    lockout.unlock(plugin, login)
    audit("login.unlock", target=login_target(login), details={"was_locked": was_locked})
    return was_locked
