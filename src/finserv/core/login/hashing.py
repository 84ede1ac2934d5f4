"""Password hashing: PBKDF2 with HMAC-SM3 and a per-user salt, 600,000 iterations.

We register the AuthEncoding scheme ``{PBKDF2-SM3}`` backed by :mod:`finserv.core.crypto` and
make it the default of ``AuthEncoding.pw_encrypt``. Products.PluggableAuthService's
ZODBUserManager and Products.PlonePAS's UserManager (``source_users``) hash new and changed
passwords with ``AuthEncoding.pw_encrypt(password)`` — without naming a scheme — so they now use
PBKDF2-SM3. This is the one monkey patch of login security: a change of the function's default
argument, applied when this module is imported (finserv's ZCML imports it at startup).
Callers that name a scheme (Zope's root user folder passes ``'SSHA'``) are unaffected.

Existing hashes (``{SSHA}`` ...) keep verifying through AuthEncoding; the login plugin upgrades
them to PBKDF2-SM3 after the next successful password login.
"""

from __future__ import annotations

from AuthEncoding import AuthEncoding

from finserv.core import crypto

SCHEME = crypto.SCHEME  # "PBKDF2-SM3"
PREFIX = "{%s}" % SCHEME


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


class PBKDF2SM3Scheme:
    """AuthEncoding scheme: ``encrypt`` returns the part after ``{PBKDF2-SM3}`` (bytes)."""

    def encrypt(self, pw):
        encoded = crypto.hash_password(_text(pw))
        return encoded[len(PREFIX) :].encode("ascii")

    def validate(self, reference, attempt):
        try:
            return crypto.verify_password(_text(attempt), PREFIX + _text(reference))
        except (UnicodeDecodeError, ValueError):
            return False


def _register() -> None:
    if SCHEME not in AuthEncoding.listSchemes():
        AuthEncoding.registerScheme(SCHEME, PBKDF2SM3Scheme())
    # The default of pw_encrypt(pw, encoding='SSHA') becomes our scheme (see module docstring).
    AuthEncoding.pw_encrypt.__defaults__ = (SCHEME,)


def is_current(stored) -> bool:
    """True if a stored hash uses PBKDF2-SM3 with the current iteration count."""
    if stored is None:
        return False
    stored = _text(stored)
    return stored.startswith(PREFIX) and not crypto.password_needs_rehash(stored)


def validate(stored, password) -> bool:
    """Check *password* against a stored hash of any AuthEncoding scheme."""
    if not stored or password is None:
        return False
    if not AuthEncoding.is_encrypted(stored):
        return False  # never accept clear-text references here
    return bool(AuthEncoding.pw_validate(stored, password))


_register()
