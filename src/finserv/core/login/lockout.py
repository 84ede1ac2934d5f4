"""Account lockout: 5 consecutive failures lock a login for 15 minutes.

State lives in the plugin's ``failures`` BTree: lower-cased login → (count, last failure,
locked until). Every write happens in a side transaction (see notify.txn.side_transaction), so a
failure is remembered even though the failing request's own transaction is aborted (HTTP Basic
auth on a protected page ends in Unauthorized). Logins that do not exist are counted the same
way, so the answers do not reveal which logins exist.
"""

from __future__ import annotations

import math

from finserv.core.login import clock
from finserv.core.login.config import setting
from finserv.core.notify.txn import side_transaction

STALE_SECONDS = 24 * 3600  # failures older than this (and not locked) start over


def login_key(login: str) -> str:
    return (login or "").strip().lower()


def _current(record, now):
    """(count, last, locked_until) with expired locks and stale counts cleared."""
    if record is None:
        return 0, 0.0, 0.0
    count, last, locked_until = record
    if locked_until and locked_until <= now:
        return 0, 0.0, 0.0  # the lock ran out: a fresh start
    if not locked_until and last and now - last > STALE_SECONDS:
        return 0, 0.0, 0.0
    return count, last, locked_until


def locked_until(plugin, login: str) -> float:
    """The time the login's lock ends, or 0 if it is not locked."""
    now = clock.now()
    _, _, until = _current(plugin.failures.get(login_key(login)), now)
    return until if until > now else 0.0


def failure_count(plugin, login: str) -> int:
    return _current(plugin.failures.get(login_key(login)), clock.now())[0]


def record_failure(plugin, login: str) -> tuple[int, float]:
    """Count one failed attempt; returns (consecutive failures, locked until or 0)."""
    key = login_key(login)
    threshold = int(setting("lockout_threshold"))
    duration = int(setting("lockout_minutes")) * 60

    def write(side):
        now = clock.now()
        count, _, until = _current(side.failures.get(key), now)
        if until > now:
            return count, until  # already locked: attempts while locked do not extend it
        count += 1
        until = now + duration if count >= threshold else 0.0
        side.failures[key] = (count, now, until)
        return count, until

    return side_transaction(plugin, write)


def reset(plugin, login: str) -> bool:
    """Forget the failures of *login* (after a full successful login). True if there were any."""
    key = login_key(login)
    if key not in plugin.failures:
        return False

    def write(side):
        if key in side.failures:
            del side.failures[key]
            return True
        return False

    return side_transaction(plugin, write)


unlock = reset


def remaining_minutes(until: float) -> int:
    return max(1, math.ceil((until - clock.now()) / 60))


def locked_logins(plugin) -> list[dict]:
    """Logins locked now, for the administrator's unlock page."""
    now = clock.now()
    result = []
    for key, record in plugin.failures.items():
        count, last, until = _current(record, now)
        if until > now:
            result.append({"login": key, "count": count, "locked_until": until, "last_failure": last})
    return sorted(result, key=lambda item: -item["locked_until"])
