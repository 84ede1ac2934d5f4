"""Password policy: length, character classes, no login name, no reuse of the last 5.

Enforced in two places:

* ``validateUserInfo`` of the login PAS plugin (an IValidationPlugin). Plone's
  ``portal_registration.testPasswordValidity`` asks it on every path that sets a password —
  registration, @@change-password, the reset form of @@mail_password, the user control panel,
  ``@users`` over REST, ``api.user.create`` — and shows our Chinese message. Plone does not tell
  the plugin whose password it is; :func:`infer_target` works it out from the request, and the
  history is only consulted when the requester has proved who they are (logged in as that user,
  a valid reset token, or a verified reset code), so the check cannot be used as an oracle.
* A subscriber to PAS's CredentialsUpdated event (see events.py) re-checks the new password
  against the history when it is actually stored, and refuses it — whatever path got there.

The history keeps the stored hashes of the last passwords (the current one included).
"""

from __future__ import annotations

import hashlib
import re

from finserv import _
from zope.i18nmessageid import Message
from finserv.core.login import hashing
from finserv.core.login.config import setting
from finserv.core.login.utils import request_cache

MSG_TOO_SHORT = _("password_too_short", default="密码长度至少为 ${min_length} 位。")
MSG_CLASSES = _(
    "password_classes",
    default="密码须包含大写字母、小写字母、数字、特殊字符中的至少 ${min_classes} 类。",
)
MSG_CONTAINS_LOGIN = _("password_contains_login", default="密码不能包含用户名。")
MSG_REUSED = _("password_reused", default="新密码不能与最近 ${history} 次使用过的密码相同。")

TARGET_MARKER = "finserv.password.target"  # request key set by our own verified flows


def character_classes(password: str) -> int:
    classes = 0
    classes += bool(re.search(r"[a-z]", password))
    classes += bool(re.search(r"[A-Z]", password))
    classes += bool(re.search(r"[0-9]", password))
    classes += bool(re.search(r"[^a-zA-Z0-9]", password))
    return classes


def _login_parts(login: str | None) -> list[str]:
    """The login and, for an e-mail login, its local part; parts shorter than 3 are ignored."""
    if not login:
        return []
    parts = {login.strip().lower()}
    if "@" in login:
        parts.add(login.split("@", 1)[0].strip().lower())
    return [p for p in parts if len(p) >= 3]


def check_rules(password: str, login: str | None = None) -> list:
    """Messages for the rules that need no history (empty list = acceptable)."""
    password = password or ""
    errors = []
    min_length = int(setting("password_min_length"))
    min_classes = int(setting("password_min_classes"))
    if len(password) < min_length:
        errors.append(Message(MSG_TOO_SHORT, mapping={"min_length": min_length}))
    if character_classes(password) < min_classes:
        errors.append(Message(MSG_CLASSES, mapping={"min_classes": min_classes}))
    lowered = password.lower()
    if password and any(part in lowered for part in _login_parts(login)):
        errors.append(MSG_CONTAINS_LOGIN)
    return errors


def reused_message():
    return Message(MSG_REUSED, mapping={"history": int(setting("password_history"))})


def history_hashes(plugin, userid: str) -> tuple:
    return tuple(plugin.history.get(userid, ()))


def in_history(plugin, userid: str, password: str, include_current: bool = True) -> bool:
    """True if *password* is one of the user's last passwords (each check is a PBKDF2 run)."""
    if not userid or not password:
        return False
    cache = request_cache()
    digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
    key = ("history", userid, digest, include_current)
    if key in cache:
        return cache[key]
    if not include_current and cache.get(("history", userid, digest, True)) is False:
        return False  # already checked against a superset (history and current hash)
    candidates = list(history_hashes(plugin, userid))[: int(setting("password_history"))]
    if include_current:
        current = current_hash(plugin, userid)
        if current and current not in candidates:
            candidates.insert(0, current)
    result = any(hashing.validate(stored, password) for stored in candidates)
    cache[key] = result
    return result


def current_hash(plugin, userid: str):
    source = plugin.user_source()
    passwords = getattr(source, "_user_passwords", None)
    return passwords.get(userid) if passwords is not None else None


def remember(plugin, userid: str, stored) -> None:
    """Put a stored hash at the front of the user's history (main transaction)."""
    if not userid or not stored:
        return
    if isinstance(stored, str):
        stored = stored.encode("utf-8")
    keep = max(1, int(setting("password_history")))
    previous = [h for h in plugin.history.get(userid, ()) if h != stored]
    plugin.history[userid] = tuple([stored] + previous)[:keep]


class Target:
    """Whose password is being set, as far as the request tells; ``trusted`` if proved."""

    def __init__(self, userid=None, login=None, trusted=False):
        self.userid, self.login, self.trusted = userid, login, trusted


def infer_target(plugin, request) -> Target:
    """Work out whose password Plone is validating (see module docstring)."""
    if request is None:
        return Target()
    marker = request.get(TARGET_MARKER) if hasattr(request, "get") else None
    if marker:
        return Target(marker[0], marker[1], True)
    acl_users = plugin._getPAS()
    # a reset token (Plone's @@passwordreset form, or @users/<id>/reset-password over REST)
    token = None
    url = str(request.get("ACTUAL_URL", "") or request.get("URL", ""))
    match = re.search(r"/passwordreset/([0-9a-fA-F]+)", url)
    if match:
        token = match.group(1)
    token = token or request.form.get("key") or _json(request).get("reset_token")
    if token:
        userid = _userid_for_reset_token(plugin, token)
        if userid:
            return Target(userid, _login_for(acl_users, userid), True)
    # changing one's own password: @@change-password, or PATCH @users/<me> with old_password
    from AccessControl import getSecurityManager

    user = getSecurityManager().getUser()
    userid = user.getId() if user is not None else None
    if userid and ("change-password" in url or "old_password" in _json(request)):
        return Target(userid, user.getUserName(), True)
    # registration and user creation: the login being chosen (not trusted)
    form = request.form
    body = _json(request)
    login = (
        form.get("form.widgets.username")
        or form.get("form.widgets.email")
        or body.get("username")
        or body.get("email")
    )
    if isinstance(login, str) and login:
        return Target(None, login, False)
    return Target()


def _json(request) -> dict:
    cache = request_cache(request)
    if "json" in cache:
        return cache["json"]
    data = {}
    try:
        content_type = request.getHeader("Content-Type") or ""
        if "json" in content_type:
            import json

            raw = request.get("BODY") or b"{}"
            parsed = json.loads(raw)
            if isinstance(parsed, dict):
                data = parsed
    except Exception:  # noqa: BLE001 - not JSON: nothing to learn from it
        data = {}
    cache["json"] = data
    return data


def _userid_for_reset_token(plugin, token):
    from Products.CMFCore.utils import getToolByName

    tool = getToolByName(plugin, "portal_password_reset", None)
    requests = getattr(tool, "_requests", None)
    if not requests or token not in requests:
        return None
    try:
        tool.verifyKey(token)
    except Exception:  # noqa: BLE001 - expired or invalid: not a proof of anything
        return None
    return requests[token][0]


def _login_for(acl_users, userid):
    user = acl_users.getUserById(userid)
    return user.getUserName() if user is not None else None


def validate_for_user(plugin, password: str, userid: str | None, login: str | None, trusted: bool) -> list:
    """All policy messages for *password*; the history only when *trusted*."""
    errors = check_rules(password, login)
    if not errors and trusted and userid and in_history(plugin, userid, password):
        errors.append(reused_message())
    return errors
