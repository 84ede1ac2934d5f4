"""Finding policies, news and notices: one implementation for the pages and the REST API.

Filters arrive as strings (query string or form); bad values raise ``FilterError`` with a
Chinese message, which the pages show and the REST services answer with 400.
"""

from finserv import _
from finserv.core.codes import is_valid_doc_number
from finserv.core.codes import normalize_doc_number
from finserv.core.codes import SHANGHAI_DISTRICTS
from finserv.core.dates import day_bound
from finserv.core.search import MAX_QUERY_LENGTH
from finserv.core.search import text_query
from finserv.core.vocabularies import INDUSTRIES
from finserv.portal.vocabularies import LEVELS
from finserv.portal.vocabularies import SIZES
from finserv.portal.vocabularies import TOPICS
from plone import api
from ZTUtils.Lazy import LazyCat
from zope.globalrequest import getRequest
from zope.i18n import translate

import datetime
import unicodedata

MAX_BATCH = 100
DOC_NUMBER_FIRST = "_doc_number_first"
STATUSES = ("current", "archived", "all")


class FilterError(ValueError):
    """A filter value the reader sent cannot be used; ``message`` says why, in Chinese."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _label(message):
    """A field label, translated now so that it reads well inside another message."""
    return translate(message, context=getRequest())


def _values(form, name):
    value = form.get(name)
    if value in (None, "", []):
        return []
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value).split(",")
    return [v.strip() for v in items if v and v.strip()]


def _choice(form, name, vocabulary, label):
    values = _values(form, name)
    for v in values:
        if v not in vocabulary:
            raise FilterError(
                _("error_filter_value", default="筛选条件“${label}”的取值“${value}”无效。", mapping={"label": _label(label), "value": v})
            )
    return values


def _date(form, name, label):
    value = form.get(name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise FilterError(
            _("error_filter_date", default="“${label}”须为 YYYY-MM-DD 格式的日期，收到：${value}", mapping={"label": _label(label), "value": value})
        )


def _int(form, name, default, low, high, label):
    value = form.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise FilterError(
            _("error_filter_int", default="“${label}”须为 ${low} 到 ${high} 之间的整数。", mapping={"label": _label(label), "low": low, "high": high})
        )
    return number


def _raw_text(form):
    raw = form.get("q") or form.get("SearchableText") or ""
    if isinstance(raw, (list, tuple)):
        raw = " ".join(raw)
    raw = str(raw).strip()
    if len(raw) > MAX_QUERY_LENGTH:
        raise FilterError(_("error_query_too_long", default="检索词不能超过 ${max} 个字。", mapping={"max": MAX_QUERY_LENGTH}))
    return raw


def _text(form, query):
    raw = _raw_text(form)
    text = text_query(raw)
    if raw and text is None:
        return raw, False  # only punctuation: nothing can match
    if text:
        query["SearchableText"] = text
    return raw, True


def _date_range(form, query, index):
    date_from = _date(form, "date_from", _("label_date_from", default="起始日期"))
    date_to = _date(form, "date_to", _("label_date_to", default="截止日期"))
    if date_from and date_to and date_to < date_from:
        raise FilterError(_("error_date_range", default="截止日期不能早于起始日期。"))
    if date_from and date_to:
        query[index] = {"query": [day_bound(date_from), day_bound(date_to, True)], "range": "min:max"}
    elif date_from:
        query[index] = {"query": day_bound(date_from), "range": "min"}
    elif date_to:
        query[index] = {"query": day_bound(date_to, True), "range": "max"}


def _batch_and_sort(form, query, has_text, date_index):
    b_size = _int(form, "b_size", 20, 1, MAX_BATCH, _("label_b_size", default="每页条数"))
    _int(form, "b_start", 0, 0, 10**7, _("label_b_start", default="起始位置"))
    sort = form.get("sort") or ("relevance" if has_text else "date")
    if sort not in ("relevance", "date"):
        raise FilterError(_("error_sort", default="排序方式只能是 relevance（相关度）或 date（日期）。"))
    if sort == "date" or "SearchableText" not in query:
        query["sort_on"] = date_index
        query["sort_order"] = "descending"
    query["b_size"] = b_size
    return b_size


def policy_query(form, today=None):
    """The catalog query for the policy filters in ``form``; raises FilterError."""
    today = today or datetime.date.today()
    query = {"portal_type": "Policy"}
    level = _choice(form, "level", LEVELS, _("label_level", default="政策层级"))
    if level:
        query["policy_level"] = level
    topic = _choice(form, "topic", TOPICS, _("label_topics", default="政策主题"))
    if topic:
        query["policy_topics"] = {"query": topic, "operator": "or"}
    industry = _choice(form, "industry", INDUSTRIES, _("label_industries", default="适用行业（GB/T 4754）"))
    if industry:
        query["policy_industries"] = {"query": industry, "operator": "or"}
    size = _choice(form, "size", SIZES, _("label_enterprise_sizes", default="企业规模"))
    if size:
        query["policy_sizes"] = {"query": size, "operator": "or"}
    district = _choice(form, "district", SHANGHAI_DISTRICTS, _("label_districts", default="适用区域"))
    if district:
        query["policy_districts"] = {"query": district + ["all"], "operator": "or"}
    _date_range(form, query, "policy_publish_date")
    status = form.get("status") or "current"
    if status not in STATUSES:
        raise FilterError(_("error_status", default="状态只能是 current（现行）、archived（已失效或归档）或 all（全部）。"))
    start_of_today = day_bound(today)
    if status == "current":
        query["review_state"] = "published"
        query["policy_current_until"] = {"query": start_of_today, "range": "min"}
    elif status == "archived":
        query["review_state"] = ["published", "archived"]
        query["policy_current_until"] = {"query": start_of_today - 1.0 / 86400, "range": "max"}
    else:
        query["review_state"] = ["published", "archived"]
    raw, searchable = _text(form, query)
    number = normalize_doc_number(unicodedata.normalize("NFKC", raw).replace(" ", ""))
    if is_valid_doc_number(number):
        # A 文号 names one policy: it comes first, then the texts that cite it.
        query[DOC_NUMBER_FIRST] = number
    _batch_and_sort(form, query, bool(raw), "policy_publish_date")
    return query if searchable else None


def article_query(form, portal_type, path):
    """The catalog query for news (News Item) or notices (Document) with the same filters."""
    query = {"portal_type": portal_type, "path": path, "review_state": "published"}
    _date_range(form, query, "effective")
    raw, searchable = _text(form, query)
    _batch_and_sort(form, query, bool(raw), "effective")
    return query if searchable else None


def search(query, b_start=0):
    """Brains for a query from ``policy_query``/``article_query`` (None matches nothing)."""
    if query is None:
        return []
    query = dict(query)
    b_size = query.pop("b_size", 20)
    number = query.pop(DOC_NUMBER_FIRST, None)
    query["sort_limit"] = b_start + b_size
    if number is None:
        return api.content.find(**query)
    exact_query = {k: v for k, v in query.items() if k not in ("SearchableText", "sort_on", "sort_order", "sort_limit")}
    exact = api.content.find(policy_doc_number=number, **exact_query)
    if not len(exact):
        return api.content.find(**query)
    others = api.content.find(UID={"not": [b.UID for b in exact]}, **query)
    return LazyCat([exact, others])
