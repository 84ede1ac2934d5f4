"""Vocabularies of the national codes, for schemas, forms and the REST API (@vocabularies)."""

from finserv.core.codes import INDUSTRY_SECTIONS
from finserv.core.codes import SHANGHAI_DISTRICTS
from zope.interface import provider
from zope.schema.interfaces import IVocabularyFactory
from zope.schema.vocabulary import SimpleTerm
from zope.schema.vocabulary import SimpleVocabulary


def make_vocabulary(items):
    """A SimpleVocabulary of (value, title) pairs; the one helper every module uses."""
    return SimpleVocabulary([SimpleTerm(value=v, token=v, title=t) for v, t in items])


DISTRICTS = make_vocabulary(SHANGHAI_DISTRICTS.items())
INDUSTRIES = make_vocabulary(
    (letter, f"{letter} {name}") for letter, (name, _divs) in INDUSTRY_SECTIONS.items()
)


@provider(IVocabularyFactory)
def DistrictVocabulary(context=None):
    return DISTRICTS


@provider(IVocabularyFactory)
def IndustryVocabulary(context=None):
    return INDUSTRIES
