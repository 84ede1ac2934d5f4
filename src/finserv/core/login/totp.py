"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with replay protection.

The secret is stored SM4-GCM encrypted (finserv.core.crypto.encrypt), its AAD binding it to the
user id, in the plugin's ``totp`` BTree: userid → {"secret": token, "confirmed": bool, ...}.
A code is accepted for the current step and one step either side; each step is accepted once:
the last step used is kept per user (``totp_steps``, written in a side transaction), and a code
of that step or an earlier one is refused.
"""

from __future__ import annotations

import hmac

import pyotp
import segno

from finserv.core import crypto
from finserv.core.login import clock
from finserv.core.notify.txn import side_transaction

STEP = 30
WINDOW = 1


def _aad(userid: str) -> bytes:
    return crypto.build_aad("login.totp", userid)


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt_secret(userid: str, secret: str) -> bytes:
    return crypto.encrypt(secret.encode("ascii"), _aad(userid))


def decrypt_secret(userid: str, token: bytes) -> str:
    return crypto.decrypt(token, _aad(userid)).decode("ascii")


def provisioning_uri(secret: str, login: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code of *uri* as a data: URI, for an <img> on the enrolment page."""
    return segno.make(uri, error="m").svg_data_uri(scale=5)


def is_enrolled(plugin, userid: str) -> bool:
    record = plugin.totp.get(userid)
    return bool(record and record.get("confirmed"))


def pending_secret(plugin, userid: str) -> str | None:
    record = plugin.totp.get(userid)
    if record and not record.get("confirmed"):
        return decrypt_secret(userid, record["secret"])
    return None


def begin(plugin, userid: str) -> str:
    """Start (or restart) enrolment; an enrolled user keeps the old secret until confirming."""
    secret = new_secret()
    record = dict(plugin.totp.get(userid) or {})
    record.update({"pending": encrypt_secret(userid, secret)})
    if not record.get("confirmed"):
        record.update({"secret": record["pending"], "confirmed": False})
    plugin.totp[userid] = record
    return secret


def matching_step(secret: str, code: str) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(clock.now() // STEP)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(plugin, userid: str, step: int) -> bool:
    """Record *step* as used; False if it (or a later one) was used before: a replay."""

    def write(side):
        last = side.totp_steps.get(userid, -1)
        if step <= last:
            return False
        side.totp_steps[userid] = step
        return True

    return side_transaction(plugin, write)


def verify(plugin, userid: str, code: str) -> bool:
    """Check a code of the user's confirmed secret, refusing replays."""
    record = plugin.totp.get(userid)
    if not record or not record.get("confirmed"):
        return False
    step = matching_step(decrypt_secret(userid, record["secret"]), code)
    return step is not None and _use_step(plugin, userid, step)


def confirm(plugin, userid: str, code: str, secret: str | None = None) -> bool:
    """Finish enrolment with a code of the new secret (given, or the pending one).

    Writes the confirmed secret in the current transaction; the step is used up at once.
    """
    record = dict(plugin.totp.get(userid) or {})
    if secret is None:
        token = record.get("pending")
        if token is None:
            return False
        secret = decrypt_secret(userid, token)
    step = matching_step(secret, code)
    if step is None or not _use_step(plugin, userid, step):
        return False
    plugin.totp[userid] = {
        "secret": encrypt_secret(userid, secret),
        "confirmed": True,
        "since": clock.now(),
    }
    return True


def disable(plugin, userid: str) -> bool:
    if userid in plugin.totp:
        del plugin.totp[userid]
        return True
    return False
