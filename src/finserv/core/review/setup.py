"""Install step of review: the chain registry and the catalog indexes (idempotent)."""

from finserv.core.review.chains import get_registry

INDEXES = (
    ("review_status", "FieldIndex"),
    ("review_pending_groups", "KeywordIndex"),
    ("review_due", "DateIndex"),
)


def install_review(portal):
    get_registry(portal, create=True)
    catalog = portal.portal_catalog
    added = []
    for name, meta_type in INDEXES:
        if name not in catalog.indexes():
            catalog.addIndex(name, meta_type)
            added.append(name)
    if added:
        # Only items with the behavior have values; reindexing just these indexes is cheap
        # when no item has it yet and correct when some already do.
        for brain in catalog.unrestrictedSearchResults(object_provides="finserv.core.review.interfaces.IReviewable"):
            brain._unrestrictedGetObject().reindexObject(idxs=added)
