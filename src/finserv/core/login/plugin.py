"""The login security PAS plugin: lockout, two-factor, password policy, hash upgrades.

Installed as ``acl_users/finserv_login``, first among the IAuthenticationPlugins. It *wraps* the
password source: the install step deactivates ``source_users`` as an authenticator, and this
plugin asks it (``wrapped_ids``) to check passwords — so nothing gets past the lockout and
two-factor checks below. Every path that authenticates with a login and password goes through it:

* Classic UI login form (``__ac_name``/``__ac_password``, credentials_cookie_auth),
* HTTP Basic auth (credentials_basic_auth),
* JSON ``{login, password}`` bodies, which plone.restapi's JWT plugin extracts (``@login``).

Session cookies (plone.session) and JWT bearer tokens are issued only after this check passed,
so they are not re-checked here.

``PAS.authenticate()`` — used by Plone to check the *current* password of a logged-in user
(@@change-password, ``@users`` PATCH with old_password) — passes credentials without an
``extractor``: those are checked against lockout and the password, without a second factor.
"""

from __future__ import annotations

import hashlib

from AccessControl.class_init import InitializeClass
from AccessControl.SecurityInfo import ClassSecurityInfo
from BTrees.OOBTree import OOBTree
from finserv import _
from zope.i18nmessageid import Message
from finserv.core.login import hashing
from finserv.core.login import lockout
from finserv.core.login import policy
from finserv.core.login import twofactor
from finserv.core.login.utils import audit_durable
from finserv.core.login.utils import login_target
from finserv.core.login.utils import logger
from finserv.core.login.utils import request_cache
from finserv.core.login.utils import tr
from finserv.core.login.utils import user_target
from finserv.core.notify.txn import side_transaction
from Products.PluggableAuthService.interfaces.plugins import IAuthenticationPlugin
from Products.PluggableAuthService.interfaces.plugins import IValidationPlugin
from Products.PluggableAuthService.plugins.BasePlugin import BasePlugin
from zope.globalrequest import getRequest
from zope.interface import implementer

OTP_HEADER = "X-Finserv-OTP"
OTP_FORM = "__ac_otp"

# a valid hash of a random password, verified for unknown logins so they cost the same time
_DUMMY_HASH = None

MSG_INVALID = _("login_invalid", default="用户名或密码错误。")
MSG_LOCKED = _(
    "login_locked",
    default="由于连续多次登录失败，账号已被锁定，请 ${minutes} 分钟后再试，或通过短信、邮件验证码重置密码。",
)
MSG_2FA_REQUIRED = _("login_2fa_required", default="请输入身份验证器或短信中的 6 位验证码以完成登录。")
MSG_2FA_INVALID = _("login_2fa_invalid", default="验证码错误或已失效，请重新输入。")
MSG_2FA_SETUP = _(
    "login_2fa_setup",
    default="工作人员账号须启用双因素认证：请先在网页端登录并绑定身份验证器，或请管理员登记手机号码。",
)


class LoginResult:
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    TWOFACTOR_REQUIRED = "twofactor_required"
    TWOFACTOR_INVALID = "twofactor_invalid"
    TWOFACTOR_SETUP = "twofactor_setup_required"

    def __init__(self, status, userid=None, login=None, methods=(), locked_until=0.0):
        self.status = status
        self.userid = userid
        self.login = login
        self.methods = list(methods)
        self.locked_until = locked_until

    @property
    def ok(self):
        return self.status == self.OK

    def message(self):
        if self.status == self.LOCKED:
            return Message(MSG_LOCKED, mapping={"minutes": lockout.remaining_minutes(self.locked_until)})
        return {
            self.OK: None,
            self.INVALID: MSG_INVALID,
            self.TWOFACTOR_REQUIRED: MSG_2FA_REQUIRED,
            self.TWOFACTOR_INVALID: MSG_2FA_INVALID,
            self.TWOFACTOR_SETUP: MSG_2FA_SETUP,
        }[self.status]

    def __repr__(self):
        return f"<LoginResult {self.status} {self.userid or self.login}>"


def _pw_digest(password) -> str:
    if isinstance(password, str):
        password = password.encode("utf-8")
    return hashlib.sha256(password or b"").hexdigest()


def last_result(request=None) -> LoginResult | None:
    """The outcome of the last login check of this request (for the login form and @login)."""
    return request_cache(request).get("last")


def otp_from_request(request) -> str | None:
    if request is None:
        return None
    try:
        value = request.form.get(OTP_FORM) or request.getHeader(OTP_HEADER)
    except AttributeError:
        return None
    return value or None


@implementer(IAuthenticationPlugin, IValidationPlugin)
class LoginSecurityPlugin(BasePlugin):
    """finserv login security (lockout, two-factor, password policy)."""

    meta_type = "finserv Login Security Plugin"
    security = ClassSecurityInfo()

    wrapped_ids = ("source_users",)

    def __init__(self, id, title=None):
        self._setId(id)
        self.title = title or "finserv 登录安全"
        self.ensure_storage()

    def ensure_storage(self):
        for name in ("failures", "history", "totp", "totp_steps", "codes", "sends", "mobiles", "user_mobiles"):
            if getattr(self, name, None) is None:
                setattr(self, name, OOBTree())

    # -- helpers ---------------------------------------------------------------------------

    def _pas(self):
        return self._getPAS()

    def user_source(self):
        pas = self._pas()
        for pid in self.wrapped_ids:
            plugin = pas._getOb(pid, None)
            if plugin is not None and hasattr(plugin, "_user_passwords"):
                return plugin
        return None

    def _wrapped(self):
        pas = self._pas()
        for pid in self.wrapped_ids:
            plugin = pas._getOb(pid, None)
            if plugin is not None and IAuthenticationPlugin.providedBy(plugin):
                yield plugin

    def get_user(self, userid):
        return self._pas().getUserById(userid)

    # -- password step -----------------------------------------------------------------------

    @security.private
    def verify_password(self, login, password, request=None, channel="check"):
        """Lockout-aware password check, once per request. Returns (userid, login, locked_until).

        A wrong password is counted (and may lock the login); a locked login is refused without
        looking at the password.
        """
        request = request if request is not None else getRequest()
        cache = request_cache(request)
        key = ("pw", lockout.login_key(login), _pw_digest(password))
        if key in cache:
            return cache[key]
        until = lockout.locked_until(self, login)
        if until:
            result = (None, login, until)
            audit_durable("login.failure", login_target(login), {"reason": "locked", "channel": channel}, request)
        else:
            result = self._check_password(login, password, request, channel)
        cache[key] = result
        return result

    def _check_password(self, login, password, request, channel):
        found = None
        for plugin in self._wrapped():
            try:
                found = plugin.authenticateCredentials({"login": login, "password": password})
            except Exception:  # noqa: BLE001 - same as PAS: a broken source is no match
                logger.exception("password source %s failed", plugin.getId())
                found = None
            if found:
                break
        if found:
            userid, real_login = found
            self._upgrade_hash(userid, password)
            return userid, real_login, 0.0
        if self._known_above(login):
            return None, login, 0.0  # a Zope administrator: the root user folder decides
        self._equalise_timing(login, password)
        count, until = lockout.record_failure(self, login)
        details = {"reason": "password", "channel": channel, "failures": count}
        audit_durable("login.failure", login_target(login), details, request)
        if until:
            audit_durable("login.lockout", login_target(login), {"failures": count, "until": until, "channel": channel}, request)
            return None, login, until
        return None, login, 0.0

    def _known_above(self, login):
        """True if *login* belongs to a user folder above the site (the Zope root's admin)."""
        from Acquisition import aq_inner
        from Acquisition import aq_parent

        portal = aq_parent(aq_inner(self._pas()))
        parent = aq_parent(aq_inner(portal)) if portal is not None else None
        while parent is not None:
            folder = getattr(aq_inner(parent), "acl_users", None)
            if folder is not None and folder is not self._pas():
                getter = getattr(folder, "getUser", None)
                try:
                    if getter is not None and getter(login) is not None:
                        return True
                except Exception:  # noqa: BLE001
                    pass
            parent = aq_parent(aq_inner(parent))
        return False

    def _equalise_timing(self, login, password):
        """Spend a PBKDF2 run on logins that do not exist, as a real check would."""
        global _DUMMY_HASH
        source = self.user_source()
        if source is None or source._login_to_userid.get(login) is not None:
            return
        from finserv.core import crypto

        if _DUMMY_HASH is None:
            _DUMMY_HASH = crypto.hash_password(crypto.sm3_hex(b"finserv dummy"))
        crypto.verify_password(password if isinstance(password, str) else "x", _DUMMY_HASH)

    def _upgrade_hash(self, userid, password):
        """Re-hash a legacy ({SSHA} ...) password with PBKDF2-SM3 after it verified."""
        source = self.user_source()
        if source is None:
            return
        stored = source._user_passwords.get(userid)
        if stored is None or hashing.is_current(stored):
            return
        from AuthEncoding import AuthEncoding

        text = password.decode("utf-8") if isinstance(password, bytes) else password
        new = AuthEncoding.pw_encrypt(text, hashing.SCHEME)

        def write(side):
            if side.get(userid) == stored:
                side[userid] = new

        try:
            side_transaction(source._user_passwords, write)
            logger.info("password hash of %s upgraded to %s", userid, hashing.SCHEME)
        except Exception:  # noqa: BLE001 - an upgrade can wait for the next login
            logger.exception("could not upgrade the password hash of %s", userid)

    # -- the whole login -------------------------------------------------------------------

    @security.private
    def check_login(self, login, password, otp=None, request=None, channel="browser"):
        """Password, lockout and second factor: the rule every login path applies."""
        request = request if request is not None else getRequest()
        cache = request_cache(request)
        key = ("login", lockout.login_key(login), _pw_digest(password), otp or "")
        if key in cache:
            cache["last"] = cache[key]
            return cache[key]
        userid, real_login, until = self.verify_password(login, password, request, channel)
        if userid is None:
            result = LoginResult(LoginResult.LOCKED if until else LoginResult.INVALID, login=login, locked_until=until)
        else:
            result = self._second_factor(userid, real_login, otp, request, channel)
        if result.ok:
            lockout.reset(self, login)
        cache[key] = cache["last"] = result
        return result

    def _second_factor(self, userid, login, otp, request, channel):
        user = self.get_user(userid)
        if user is None:
            return LoginResult(LoginResult.INVALID, login=login)
        if not twofactor.required(self, user):
            return LoginResult(LoginResult.OK, userid, login)
        methods = twofactor.methods(self, user)
        if not otp:
            status = LoginResult.TWOFACTOR_REQUIRED if methods or channel == "browser" else LoginResult.TWOFACTOR_SETUP
            return LoginResult(status, userid, login, methods)
        if twofactor.verify(self, user, otp):
            return LoginResult(LoginResult.OK, userid, login, methods)
        count, until = lockout.record_failure(self, login)
        audit_durable("twofactor.failure", user_target(userid), {"channel": channel, "failures": count}, request)
        if until:
            audit_durable("login.lockout", login_target(login), {"failures": count, "until": until, "channel": channel}, request)
            return LoginResult(LoginResult.LOCKED, userid, login, methods, until)
        return LoginResult(LoginResult.TWOFACTOR_INVALID, userid, login, methods)

    # -- IAuthenticationPlugin ---------------------------------------------------------------

    @security.private
    def authenticateCredentials(self, credentials):
        if not isinstance(credentials, dict):
            return None
        login = credentials.get("login")
        password = credentials.get("password")
        if login is None or password is None or not isinstance(login, str):
            return None
        extractor = credentials.get("extractor")
        request = getRequest()
        if extractor is None:
            # PAS.authenticate(): a password check for a user who already has a session
            userid, real_login, _until = self.verify_password(login, password, request, "check")
            return (userid, real_login) if userid else None
        channel = {"credentials_basic_auth": "basic", "jwt_auth": "rest"}.get(extractor, "browser")
        otp = credentials.get("otp") if isinstance(credentials.get("otp"), str) else None
        otp = otp or otp_from_request(request)
        result = self.check_login(login, password, otp, request, channel)
        return (result.userid, result.login) if result.ok else None

    # -- IValidationPlugin -----------------------------------------------------------------

    @security.private
    def validateUserInfo(self, user, set_id, set_info):
        if not set_info or set_info.get("password") is None:
            return []
        password = set_info["password"]
        request = getRequest()
        if user is not None:
            target = policy.Target(user.getId(), user.getUserName(), False)
        else:
            target = policy.infer_target(self, request)
        errors = policy.validate_for_user(self, password, target.userid, target.login, target.trusted)
        return [{"id": "password", "error": tr(message, request)} for message in errors]


InitializeClass(LoginSecurityPlugin)
