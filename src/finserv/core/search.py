"""Chinese full-text search: turning what a reader types into a catalog query.

Plone's ``plone_lexicon`` already splits CJK runs into overlapping bigrams (the "Unicode
Whitespace splitter" of Products.CMFPlone.UnicodeSplitter), so a query such as 人才奖 finds
上海金融人才奖评审办法 as a phrase of the bigrams 人才 + 才奖. What it gets wrong is the
query: a run that mixes digits and Han characters (2024年), full-width punctuation
(〔2024〕, ：) or a trailing single character is parsed into a phrase with a glob inside,
which matches nothing, and ZCTextIndex operators typed by a user (AND, OR, NOT, quotes,
parentheses) raise parse errors. ``text_query`` normalises what the user typed into a
query the index answers: every term is a separate AND-ed atom, digits and Han runs are
separated, punctuation is dropped, and a lone Han character becomes a prefix search.
"""

from __future__ import annotations

import re
import unicodedata

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TERM_RE = re.compile(rf"[{_HAN}]+|[A-Za-z0-9]+")
_HAN_RE = re.compile(rf"^[{_HAN}]+$")
_OPERATORS = {"and", "or", "not"}
MAX_QUERY_LENGTH = 100


def text_terms(text: str) -> list[str]:
    """The searchable terms of ``text``: Han runs and latin/digit words, in order."""
    normalized = unicodedata.normalize("NFKC", text or "")
    return [t for t in _TERM_RE.findall(normalized) if t.lower() not in _OPERATORS]


def text_query(text: str) -> str | None:
    """A ZCTextIndex query string for what a reader typed, or None if nothing is searchable.

    A lone Han character becomes a prefix (年 → 年*): the index holds 2024年修订 as 2024 + 年修
    + 修订, so 年* keeps "2024年" from matching every text that merely contains 2024 (measured:
    664 hits for 380 relevant with the prefix, 899 without it; benchmarks/README.md).
    """
    atoms = []
    for term in text_terms(text)[:20]:
        if _HAN_RE.match(term) and len(term) == 1:
            atoms.append(term + "*")
        else:
            atoms.append(term)
    return " AND ".join(atoms) if atoms else None
