"""Transaction helpers shared by notify and login.

* :func:`after_commit` runs a function only once the current transaction has committed, so a
  request that is aborted or retried after a ConflictError sends nothing (twice).
* :func:`side_transaction` changes persistent state in a transaction of its own that commits at
  once, independent of the request's transaction. Login security needs this: a failed login
  often ends in ``Unauthorized``, which aborts the request's transaction — a failure counter
  written there would be rolled back and an attacker could guess forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import transaction
from ZODB.POSException import ConflictError

logger = logging.getLogger(__name__)

T = TypeVar("T")

SIDE_TRANSACTION_RETRIES = 5


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``fn(*args, **kwargs)`` after the current transaction commits successfully.

    Nothing happens if the transaction is aborted or its commit fails. Errors raised by *fn*
    are logged, never raised into the (already committed) request.
    """

    def hook(status: bool) -> None:
        if not status:
            return
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the transaction is committed; log and carry on
            logger.exception("after-commit action %r failed", getattr(fn, "__name__", fn))

    transaction.get().addAfterCommitHook(hook)


def side_transaction(obj: Any, fn: Callable[[Any], T], retries: int = SIDE_TRANSACTION_RETRIES) -> T:
    """Run ``fn(copy_of_obj)`` in a separate ZODB connection and commit it immediately.

    *obj* is a persistent object (typically a BTree) that is already stored; *fn* receives the
    same object as loaded by the side connection and may change it. ConflictErrors are retried
    with fresh state. If *obj* has not been stored yet (it was created in the current
    transaction), *fn* runs on *obj* itself in the current transaction.

    The request's own connection sees the change from its next transaction on.
    """
    jar = getattr(obj, "_p_jar", None)
    oid = getattr(obj, "_p_oid", None)
    if jar is None or oid is None:
        return fn(obj)
    db = jar.db()
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        for attempt in range(retries):
            tm.begin()
            try:
                result = fn(conn.get(oid))
                tm.commit()
                return result
            except ConflictError:
                tm.abort()
                if attempt == retries - 1:
                    raise
                logger.info("side transaction conflict, retrying (%s)", attempt + 1)
            except BaseException:
                tm.abort()
                raise
        raise AssertionError("unreachable")
    finally:
        conn.close()
