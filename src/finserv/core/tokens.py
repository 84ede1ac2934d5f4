"""Signed, time-limited tokens for QR codes: verifiable offline, never accepted twice.

Two kinds, both used by check-in (and any module that needs a credential on paper or a phone):

* **Static tokens** — printed on badges and certificates. An SM2 signature (system key) over
  ``kind, subject, version, expiry``: anyone holding the public key verifies it offline; a
  reprint issues ``version + 1``, and the caller's current version makes older prints invalid.
* **Rotating codes** — shown on a phone and changing every ``period`` seconds. An HMAC-SM3 of
  ``subject`` and the time step under a per-subject secret (never a keyless hash): accepted
  only within one step of the server's clock and only for a step later than the last one
  accepted for that subject, so a screenshot expires and a copied code is refused. The
  last accepted step is a plain persistent mapping entry: two gates accepting the same code at
  once write the same key, the later transaction conflicts, Zope retries it, and the retry
  sees the step already used.

Encoding: ``<prefix>.<base64url payload>.<base64url signature or MAC>`` — short enough for a
QR code of version ≤ 10 at error correction level M.
"""

from __future__ import annotations

from finserv import _
from finserv.core import crypto

import base64
import dataclasses
import hmac
import io
import json
import time

STATIC_PREFIX = "FS1"
ROTATING_PREFIX = "FR1"
DEFAULT_PERIOD = 30


class TokenError(ValueError):
    """Why a token is refused; ``reason`` is a short code for logs, ``message`` is for people."""

    def __init__(self, reason: str, message):
        super().__init__(reason)
        self.reason = reason
        self.message = message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# --- static, SM2-signed --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StaticClaim:
    kind: str
    subject: str
    version: int
    expires: int | None


def issue_static(kind: str, subject: str, version: int = 1, expires: int | None = None, signer=None) -> str:
    """A signed token for ``subject`` (e.g. a registration id) of ``kind`` (e.g. "badge")."""
    payload = {"k": kind, "s": subject, "v": int(version)}
    if expires is not None:
        payload["e"] = int(expires)
    body = _canonical(payload)
    signature = (signer or crypto.get_signer("system")).sign(STATIC_PREFIX.encode() + b"." + body)
    return f"{STATIC_PREFIX}.{_b64(body)}.{_b64(signature)}"


def verify_static(token: str, kind: str, public_key_pem: bytes | None = None, now: float | None = None) -> StaticClaim:
    """The claim of a genuine, unexpired token of ``kind``; TokenError otherwise.

    Offline verifiers pass the system's public key; the caller then compares ``version``
    with the subject's current version (a reprint revokes older codes).
    """
    try:
        prefix, body_b64, sig_b64 = (token or "").strip().split(".")
        if prefix != STATIC_PREFIX:
            raise ValueError(prefix)
        body, signature = _unb64(body_b64), _unb64(sig_b64)
        payload = json.loads(body)
    except (ValueError, TypeError):
        raise TokenError("malformed", _("token_malformed", default="无法识别的二维码。")) from None
    data = STATIC_PREFIX.encode() + b"." + body
    if public_key_pem is not None:
        genuine = crypto.sm2_verify(public_key_pem, data, signature)
    else:
        genuine = crypto.get_signer("system").verify(data, signature)
    if not genuine:
        raise TokenError("bad_signature", _("token_bad_signature", default="二维码签名无效，可能是伪造的。"))
    if payload.get("k") != kind:
        raise TokenError("wrong_kind", _("token_wrong_kind", default="这不是本场景使用的二维码。"))
    expires = payload.get("e")
    if expires is not None and (now if now is not None else time.time()) > expires:
        raise TokenError("expired", _("token_expired", default="二维码已过期。"))
    return StaticClaim(kind=payload["k"], subject=str(payload["s"]), version=int(payload["v"]), expires=expires)


# --- rotating, HMAC-SM3 --------------------------------------------------------------------


def new_secret() -> bytes:
    """A per-subject secret for rotating codes (store it with the subject)."""
    import secrets

    return secrets.token_bytes(20)


def current_step(now: float | None = None, period: int = DEFAULT_PERIOD) -> int:
    return int((now if now is not None else time.time()) // period)


def seconds_left(now: float | None = None, period: int = DEFAULT_PERIOD) -> int:
    """For the countdown next to the code."""
    now = now if now is not None else time.time()
    return int(period - (now % period))


def _mac(secret: bytes, subject: str, step: int) -> bytes:
    return crypto.hmac_sm3(secret, f"{ROTATING_PREFIX}|{subject}|{step}".encode())[:10]


def rotating_code(subject: str, secret: bytes, now: float | None = None, period: int = DEFAULT_PERIOD) -> str:
    """The code a phone shows now for ``subject``."""
    step = current_step(now, period)
    return f"{ROTATING_PREFIX}.{_b64(subject.encode())}.{step}.{_b64(_mac(secret, subject, step))}"


def rotating_subject(code: str) -> str:
    """The subject a rotating code claims (to look up its secret); TokenError if malformed."""
    try:
        prefix, subject_b64, _step, _mac_b64 = (code or "").strip().split(".")
        if prefix != ROTATING_PREFIX:
            raise ValueError(prefix)
        return _unb64(subject_b64).decode("utf-8")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise TokenError("malformed", _("token_malformed", default="无法识别的二维码。")) from None


def accept_rotating(code: str, secret: bytes, last_steps, now: float | None = None, period: int = DEFAULT_PERIOD) -> str:
    """Accept a phone's code once: returns the subject, or raises TokenError.

    ``last_steps`` is a persistent mapping (e.g. an OOBTree on the event) subject → last
    accepted step; it is updated here, in the caller's transaction.
    """
    subject = rotating_subject(code)
    _prefix, _subject, step_text, mac_b64 = code.strip().split(".")
    try:
        step = int(step_text)
        mac = _unb64(mac_b64)
    except ValueError:
        raise TokenError("malformed", _("token_malformed", default="无法识别的二维码。")) from None
    if not hmac.compare_digest(mac, _mac(secret, subject, step)):
        raise TokenError("bad_mac", _("token_bad_mac", default="动态码无效，可能是伪造的。"))
    server_step = current_step(now, period)
    if abs(step - server_step) > 1:
        raise TokenError("stale", _("token_stale", default="动态码已过期：请刷新手机上的二维码（截图无效）。"))
    last = last_steps.get(subject)
    if last is not None and step <= last:
        raise TokenError("replayed", _("token_replayed", default="该动态码已被使用：请勿使用截图或转发的二维码。"))
    last_steps[subject] = step
    return subject


# --- QR images ------------------------------------------------------------------------------


def qr_png(token: str, scale: int = 6) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(token, error="m", micro=False).save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def qr_svg(token: str, scale: int = 4) -> str:
    import segno

    out = io.BytesIO()
    segno.make(token, error="m", micro=False).save(out, kind="svg", scale=scale, border=2, xmldecl=False)
    return out.getvalue().decode("utf-8")
