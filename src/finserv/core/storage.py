"""Where a mechanism keeps its site-wide state: one persistent object in a portal annotation.

Not content (no catalog, no workflow, not traversable by URL), created on first use or by the
mechanism's install step. Reading never writes: a missing store is ``None`` unless a
``factory`` is given.
"""

from zope.annotation.interfaces import IAnnotations


def site_storage(site, key: str, factory=None):
    """The object stored under ``key`` on ``site``; made with ``factory()`` if missing and given."""
    if site is None:
        return None
    annotations = IAnnotations(site)
    stored = annotations.get(key)
    if stored is None and factory is not None:
        stored = annotations[key] = factory()
    return stored
