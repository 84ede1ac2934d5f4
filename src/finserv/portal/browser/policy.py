"""A policy page, and the filterable, searchable list of policies."""

from finserv import _
from finserv.core.codes import INDUSTRY_SECTIONS
from finserv.core.codes import SHANGHAI_DISTRICTS
from finserv.core.vocabularies import DISTRICTS
from finserv.core.vocabularies import INDUSTRIES
from finserv.core.dates import iso_date
from finserv.portal.content.policy import IPolicy
from finserv.portal.policysearch import FilterError
from finserv.portal.policysearch import policy_query
from finserv.portal.policysearch import search
from finserv.portal.vocabularies import LEVELS
from finserv.portal.vocabularies import SIZES
from finserv.portal.vocabularies import TOPICS
from plone import api
from plone.batching import Batch
from Products.Five.browser import BrowserView
from zope.i18n import translate

import datetime


class PolicyView(BrowserView):
    def _title(self, vocabulary, value):
        return translate(vocabulary.getTerm(value).title, context=self.request) if value in vocabulary else value

    def facts(self):
        c = self.context
        rows = [
            ("doc_number", c.doc_number),
            ("issuing_authority", c.issuing_authority),
            ("level", self._title(LEVELS, c.level)),
            ("publish_date", c.publish_date and c.publish_date.isoformat()),
            ("valid_from", c.valid_from and c.valid_from.isoformat()),
            ("valid_to", c.valid_to and c.valid_to.isoformat()),
            ("topics", "、".join(self._title(TOPICS, t) for t in c.topics or ())),
            ("industries", "、".join(INDUSTRY_SECTIONS[i][0] for i in c.industries or () if i in INDUSTRY_SECTIONS)),
            ("enterprise_sizes", "、".join(self._title(SIZES, s) for s in c.enterprise_sizes or ())),
            (
                "districts",
                "、".join(SHANGHAI_DISTRICTS.get(d, d) for d in c.districts or ())
                or translate(_("citywide", default="全市"), context=self.request),
            ),
        ]
        return [
            {"label": translate(IPolicy[name].title, context=self.request), "value": value}
            for name, value in rows
            if value
        ]

    def is_current(self):
        return api.content.get_state(self.context) == "published" and self.context.is_current()

    def attachments(self):
        return [
            {"title": f.Title(), "url": f"{f.absolute_url()}/@@download/file/{f.file.filename}", "size": f.file.getSize()}
            for f in self.context.objectValues()
            if f.portal_type == "File" and getattr(f, "file", None) is not None
        ]

    def interpretation(self):
        rel = self.context.interpretation
        if rel is None or rel.isBroken():
            return None
        obj = rel.to_object
        if obj is None or not api.user.has_permission("View", obj=obj):
            return None
        return {"title": obj.Title(), "url": obj.absolute_url(), "description": obj.Description()}


class PolicyListingView(BrowserView):
    """/policies: filters, Chinese search, current and archived policies."""

    error = None

    def filters(self):
        """The select filters: request name, label, and (value, title) options."""
        fields = [
            ("level", "level", LEVELS),
            ("topic", "topics", TOPICS),
            ("industry", "industries", INDUSTRIES),
            ("size", "enterprise_sizes", SIZES),
            ("district", "districts", DISTRICTS),
        ]
        return [
            {
                "name": name,
                "label": translate(IPolicy[field].title, context=self.request),
                "options": [(t.value, translate(t.title, context=self.request)) for t in vocabulary],
            }
            for name, field, vocabulary in fields
        ]

    def results(self):
        form = self.request.form
        try:
            query = policy_query(form)
        except FilterError as error:
            self.error = translate(error.message, context=self.request)
            return Batch([], 20)
        b_start = int(form.get("b_start") or 0) if str(form.get("b_start") or "0").isdigit() else 0
        b_size = query["b_size"] if query else 20
        return Batch(search(query, b_start), b_size, b_start)

    def selected(self, name, value):
        return value in str(self.request.form.get(name) or "").split(",")

    def date(self, value):
        return iso_date(value) or ""

    def today(self):
        return datetime.date.today().isoformat()
