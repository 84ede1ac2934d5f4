"""Event subscribers of the policy library."""

from finserv.core.codes import normalize_doc_number


def normalize_policy(obj, event):
    """Store 文号 with the standard year brackets 〔 〕, whatever the editor typed."""
    if obj.doc_number:
        normalized = normalize_doc_number(obj.doc_number)
        if normalized != obj.doc_number:
            obj.doc_number = normalized


def reindex_listing_state(obj, event):
    """Archiving or republishing moves a policy out of, or back into, the current listings."""
    # A full reindex: a partial one (idxs=...) of an object whose first indexing is still
    # queued makes ZCatalog create an entry holding only those indexes.
    obj.reindexObject()


def set_effective_on_publish(obj, event):
    """Give content its publication date when it is first published, whatever published it.

    Plone sets it only in the browser's state menu; transitions through plone.api or the
    REST API would otherwise leave news and notices undated and unsorted.
    """
    if event.action not in ("publish", "republish") or obj.effective_date is not None:
        return
    from DateTime import DateTime

    obj.setEffectiveDate(DateTime())
    obj.reindexObject()
