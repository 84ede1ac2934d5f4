"""Catalog indexer of the blind indexes of every encrypted field (exact-match search)."""

from finserv.core import sensitive
from plone.dexterity.interfaces import IDexterityContent
from plone.indexer import indexer


@indexer(IDexterityContent)
def sensitive_blind_index(obj):
    return sensitive.sensitive_blind_index(obj)
