"""Login security: password hashing and policy, lockout, two-factor, SMS login, sessions.

Where each rule lives:

* hashing.py — ``{PBKDF2-SM3}`` (600,000 iterations, per-user salt) for new/changed passwords;
* plugin.py — the PAS plugin every password login passes through (lockout, second factor);
* policy.py — length, character classes, login name, history (IValidationPlugin + event);
* lockout.py, codes.py, totp.py — the state, written in side transactions;
* flows.py — the user-facing flows, used by services.py (REST) and browser.py (Classic UI);
* session.py — idle timeout of the browser session; setup.py — the install step.

Importing this package registers the password scheme (see hashing.py).
"""

from finserv.core.login import hashing  # noqa: F401 - registers {PBKDF2-SM3} at startup
