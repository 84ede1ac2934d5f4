"""One-time codes sent by SMS or e-mail: 6 digits, valid 5 minutes, single use, 5 attempts.

Codes are stored as HMAC-SM3 (key derived from the crypto keyring, bound to purpose and subject),
never in clear. One code per (purpose, subject); a new code replaces the previous one. Sending is
rate limited per (purpose group, subject): one per 60 seconds, ten per day. All writes happen in
side transactions, so a failed attempt is counted and a used code stays used even if the request
that used it fails later.
"""

from __future__ import annotations

import datetime
import hmac
import math
import secrets

from finserv.core import crypto
from finserv.core.login import clock
from finserv.core.login.config import setting
from finserv.core.notify.txn import side_transaction

CODE_DIGITS = 6
_CN = datetime.timezone(datetime.timedelta(hours=8))

# purposes
LOGIN_SMS = "sms_login"  # mini-program login: subject = mobile blind index
TWOFACTOR = "twofactor"  # second factor by SMS: subject = userid
RESET = "reset"  # self-service password reset: subject = userid

OK = "ok"
INVALID = "invalid"
EXPIRED = "expired"
USED = "used"
TOO_MANY = "too_many"
MISSING = "missing"


class CodeCheck:
    def __init__(self, status, userid=None):
        self.status, self.userid = status, userid

    @property
    def ok(self):
        return self.status == OK

    def __repr__(self):
        return f"<CodeCheck {self.status} {self.userid}>"


def _key() -> bytes:
    return crypto.hmac_sm3(crypto.get_keyring().hmac_key, b"finserv/login-code/v1")


def _digest(purpose: str, subject: str, code: str) -> str:
    return crypto.hmac_sm3(_key(), f"{purpose}\x00{subject}\x00{code}".encode()).hex()


def _day(now: float) -> str:
    return datetime.datetime.fromtimestamp(now, _CN).date().isoformat()


def issue(plugin, purpose: str, subject: str, userid: str | None = None, rate_key: str | None = None,
          store_code: bool = True):
    """Create a code for (*purpose*, *subject*) unless the rate limit says wait.

    Returns ``(code, retry_after_seconds)``: ``(code, 0)`` on success, ``(None, seconds)`` when
    rate limited. With ``store_code=False`` only the rate limit is counted (used for unknown
    mobile numbers so they take the same path as known ones).
    """
    interval = int(setting("sms_interval_seconds"))
    daily = int(setting("sms_daily_limit"))
    minutes = int(setting("code_minutes"))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    digest = _digest(purpose, subject, code)
    rate_key = rate_key or f"{purpose}:{subject}"

    def write(side):
        now = clock.now()
        day = _day(now)
        last, last_day, count = side.sends.get(rate_key, (0.0, day, 0))
        if last_day != day:
            count = 0
        if last and now - last < interval:
            return max(1, math.ceil(interval - (now - last)))
        if count >= daily:
            tomorrow = datetime.datetime.fromtimestamp(now, _CN).replace(hour=0, minute=0, second=0, microsecond=0)
            tomorrow += datetime.timedelta(days=1)
            return int(tomorrow.timestamp() - now) + 1
        side.sends[rate_key] = (now, day, count + 1)
        if store_code:
            side.codes[f"{purpose}:{subject}"] = {
                "h": digest,
                "exp": now + minutes * 60,
                "tries": 0,
                "used": False,
                "uid": userid,
                "issued": now,
            }
        return 0

    wait = side_transaction(plugin, write)
    if wait:
        return None, wait
    return code, 0


def verify(plugin, purpose: str, subject: str, code: str, consume: bool = True) -> CodeCheck:
    """Check *code*; a correct code is used up, a wrong one counts against its 5 attempts.

    With ``consume=False`` a correct code stays valid until :func:`consume` (for flows that
    still have to check something else, e.g. the new password's history).
    """
    code = (code or "").strip()
    max_tries = int(setting("code_max_attempts"))
    key = f"{purpose}:{subject}"
    candidate = _digest(purpose, subject, code) if code else ""

    def write(side):
        now = clock.now()
        record = side.codes.get(key)
        if record is None:
            return CodeCheck(MISSING)
        if record["used"]:
            return CodeCheck(USED)
        if record["exp"] <= now:
            return CodeCheck(EXPIRED)
        if record["tries"] >= max_tries:
            return CodeCheck(TOO_MANY)
        if candidate and hmac.compare_digest(candidate, record["h"]):
            if consume:
                side.codes[key] = dict(record, used=True, used_at=now)
            return CodeCheck(OK, record.get("uid"))
        side.codes[key] = dict(record, tries=record["tries"] + 1)
        return CodeCheck(INVALID)

    # always in a fresh connection: the request's view may predate a code issued a moment ago
    return side_transaction(plugin, write)


def consume(plugin, purpose: str, subject: str) -> None:
    """Mark the current code of (*purpose*, *subject*) as used."""
    key = f"{purpose}:{subject}"

    def write(side):
        record = side.codes.get(key)
        if record is not None and not record["used"]:
            side.codes[key] = dict(record, used=True, used_at=clock.now())

    side_transaction(plugin, write)


def has_pending(plugin, purpose: str, subject: str) -> bool:
    record = plugin.codes.get(f"{purpose}:{subject}")
    return bool(record and not record["used"] and record["exp"] > clock.now())
