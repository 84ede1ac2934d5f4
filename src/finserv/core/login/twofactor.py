"""Who needs a second factor, which factors they have, and the browser's pending-login ticket.

Two-factor authentication is required for staff — members of the groups in
``finserv.login.twofactor_groups`` (default: sys-admins, office-staff, content-editors,
content-reviewers, district-*) or holders of a global role in ``finserv.login.twofactor_roles``
(default: Manager, Site Administrator) — and for anyone who enrolled an authenticator app.
Factors: TOTP (authenticator app) and a 6-digit SMS code to the member's ``mobile``.

Between the password step and the code step of the browser login, the user holds a signed
ticket cookie (HMAC-SM3, 5 minutes) naming the user; it grants nothing by itself.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets

from finserv.core import crypto
from finserv.core.login import clock
from finserv.core.login import codes
from finserv.core.login import totp
from finserv.core.login.config import setting
from finserv.core.login.mobile import user_mobile

TICKET_COOKIE = "__fs_2fa"
TICKET_SECONDS = 300

TOTP = "totp"
SMS = "sms"


def _groups_match(group_ids, patterns) -> bool:
    for pattern in patterns or ():
        if pattern.endswith("*"):
            if any(g.startswith(pattern[:-1]) for g in group_ids):
                return True
        elif pattern in group_ids:
            return True
    return False


def is_staff(user) -> bool:
    if user is None:
        return False
    try:
        groups = set(user.getGroups() or ())
        roles = set(user.getRoles() or ())
    except Exception:  # noqa: BLE001
        return False
    if roles & set(setting("twofactor_roles") or ()):
        return True
    return _groups_match(groups, setting("twofactor_groups"))


def methods(plugin, user) -> list[str]:
    """The second factors *user* can use now."""
    found = []
    if totp.is_enrolled(plugin, user.getId()):
        found.append(TOTP)
    if user_mobile(user):
        found.append(SMS)
    return found


def required(plugin, user) -> bool:
    return is_staff(user) or totp.is_enrolled(plugin, user.getId())


def verify(plugin, user, code: str) -> bool:
    """Check a second-factor code: a TOTP code, else a pending SMS code."""
    userid = user.getId()
    code = (code or "").strip()
    if not code:
        return False
    if totp.is_enrolled(plugin, userid) and totp.verify(plugin, userid, code):
        return True
    if codes.has_pending(plugin, codes.TWOFACTOR, userid) or user_mobile(user):
        return codes.verify(plugin, codes.TWOFACTOR, userid, code).ok
    return False


def send_sms(plugin, user):
    """Send a second-factor code by SMS. Returns (sent: bool, retry_after, masked mobile)."""
    from finserv.core.login.mobile import index_of
    from finserv.core.login.mobile import mask
    from finserv.core.notify import send

    mobile = user_mobile(user)
    if not mobile:
        return False, 0, ""
    code, wait = codes.issue(plugin, codes.TWOFACTOR, user.getId(), userid=user.getId(), rate_key=f"sms:{index_of(mobile)}")
    if code is None:
        return False, wait, mask(mobile)
    send("sms", mobile, "sms_twofactor_code", code=code, minutes=int(setting("code_minutes")))
    return True, 0, mask(mobile)


# --- the browser's pending-login ticket ----------------------------------------------------------


def _ticket_key() -> bytes:
    return crypto.hmac_sm3(crypto.get_keyring().hmac_key, b"finserv/login-2fa-ticket/v1")


def make_ticket(userid: str, login: str, enrol_secret: str | None = None) -> str:
    payload = {"u": userid, "l": login, "e": int(clock.now()) + TICKET_SECONDS, "n": secrets.token_hex(8)}
    if enrol_secret:
        payload["s"] = base64.b64encode(crypto.encrypt(enrol_secret.encode("ascii"), crypto.build_aad("login.2fa.enrol", userid))).decode()
    data = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    mac = crypto.hmac_sm3(_ticket_key(), data.encode()).hex()
    return f"{data}.{mac}"


def read_ticket(value: str | None) -> dict | None:
    """The payload of a valid, unexpired ticket (with the enrolment secret decrypted), or None."""
    if not value or "." not in value:
        return None
    data, mac = value.rsplit(".", 1)
    expected = crypto.hmac_sm3(_ticket_key(), data.encode()).hex()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(data.encode()))
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("e", 0) < clock.now():
        return None
    if payload.get("s"):
        try:
            payload["secret"] = crypto.decrypt(base64.b64decode(payload["s"]), crypto.build_aad("login.2fa.enrol", payload["u"])).decode("ascii")
        except (crypto.CryptoError, ValueError):
            return None
    return payload
