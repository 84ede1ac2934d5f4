"""The notify state of a site: edited templates and the embedded outbox (site annotation)."""

from __future__ import annotations

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.component.hooks import getSite
from finserv.core.storage import site_storage

ANNOTATION_KEY = "finserv.notify"
OUTBOX_KEEP = 5000  # messages kept in the outbox; older ones are dropped in batches


class NotifyStore(Persistent):
    """``templates``: name → {subject, body} edited through the web (defaults live in code).

    ``outbox``: "<time ns>-<random>" → message dict. Time-ordered keys with a random suffix, so
    concurrent writers rarely touch the same bucket; ``count`` is a conflict-free Length.
    """

    def __init__(self):
        self.templates = OOBTree()
        self.outbox = OOBTree()
        self.count = Length()


def get_store(site=None, create: bool = False) -> NotifyStore | None:
    site = site if site is not None else getSite()
    return site_storage(site, ANNOTATION_KEY, NotifyStore if create else None)
