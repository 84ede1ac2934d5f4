"""Catalog indexers of the policy library."""

from finserv.core.codes import INDUSTRY_SECTIONS
from finserv.core.codes import SHANGHAI_DISTRICTS
from finserv.core.dates import to_datetime
from finserv.portal.content.policy import IPolicy
from finserv.portal.vocabularies import LEVELS
from finserv.portal.vocabularies import SIZES
from finserv.portal.vocabularies import TOPICS
from plone import api
from plone.indexer import indexer
from zope.globalrequest import getRequest
from zope.i18n import translate

import datetime

NO_EXPIRY = datetime.date(2999, 12, 31)
ARCHIVED = datetime.date(1900, 1, 1)


def _labels(vocabulary, values):
    request = getRequest()
    out = []
    for value in values or ():
        if value in vocabulary:
            out.append(translate(vocabulary.getTerm(value).title, context=request, target_language="zh_CN"))
    return out


@indexer(IPolicy)
def policy_level(obj):
    return obj.level


@indexer(IPolicy)
def policy_topics(obj):
    return list(obj.topics or [])


@indexer(IPolicy)
def policy_industries(obj):
    return list(obj.industries or [])


@indexer(IPolicy)
def policy_sizes(obj):
    return list(obj.enterprise_sizes or [])


@indexer(IPolicy)
def policy_districts(obj):
    # City-wide policies apply in every district.
    return list(obj.districts or []) or ["all"]


@indexer(IPolicy)
def policy_publish_date(obj):
    return to_datetime(obj.publish_date)


@indexer(IPolicy)
def policy_valid_to(obj):
    return to_datetime(obj.valid_to)


@indexer(IPolicy)
def policy_current_until(obj):
    """Until when the policy is listed as current: its expiry, or long ago once archived."""
    if api.content.get_state(obj, default=None) == "archived":
        return to_datetime(ARCHIVED)
    return to_datetime(obj.valid_to or NO_EXPIRY)


@indexer(IPolicy)
def policy_doc_number(obj):
    return obj.doc_number or ""


@indexer(IPolicy)
def policy_authority(obj):
    return obj.issuing_authority or ""


@indexer(IPolicy)
def SearchableText(obj):
    """Title weighs most (three times), then number, authority, categories, summary, text."""
    parts = [obj.title] * 3
    parts += [obj.doc_number or "", obj.issuing_authority or "", obj.description or ""]
    parts += _labels(LEVELS, [obj.level])
    parts += _labels(TOPICS, obj.topics)
    parts += _labels(SIZES, obj.enterprise_sizes)
    parts += [SHANGHAI_DISTRICTS[d] for d in obj.districts or () if d in SHANGHAI_DISTRICTS]
    parts += [INDUSTRY_SECTIONS[i][0] for i in obj.industries or () if i in INDUSTRY_SECTIONS]
    text = getattr(obj, "text", None)
    if text is not None and getattr(text, "output", None):
        from plone.app.textfield.interfaces import ITransformer

        try:
            parts.append(ITransformer(obj)(text, "text/plain"))
        except Exception:  # an untransformable body must not block indexing
            parts.append(text.raw or "")
    return " ".join(p for p in parts if p)
