"""The mini-program's lists: @policies, @news and @notices (filters, Chinese search, batches)."""

from finserv.core.codes import SHANGHAI_DISTRICTS
from finserv.core.dates import iso_date
from finserv.portal.policysearch import article_query
from finserv.portal.policysearch import FilterError
from finserv.portal.policysearch import policy_query
from finserv.portal.policysearch import search
from finserv.portal.vocabularies import LEVELS
from finserv.portal.vocabularies import TOPICS
from plone import api
from plone.restapi.batching import HypermediaBatch
from plone.restapi.services import Service
from zope.i18n import translate

import datetime


class ListingService(Service):
    def terms(self, vocabulary, values):
        out = []
        for value in values or ():
            if value in vocabulary:
                out.append({"token": value, "title": translate(vocabulary.getTerm(value).title, context=self.request)})
        return out

    def query(self):
        """The catalog query for the request, or None when nothing can match."""
        return None

    def item(self, brain):
        return {
            "@id": brain.getURL(),
            "@type": brain.portal_type,
            "UID": brain.UID,
            "title": brain.Title,
            "description": brain.Description,
            "review_state": brain.review_state,
            "effective": iso_date(brain.effective),
        }

    def reply(self):
        try:
            query = self.query()
        except FilterError as error:
            self.request.response.setStatus(400)
            return {"type": "BadRequest", "message": translate(error.message, context=self.request)}
        b_start = int(self.request.form.get("b_start") or 0)
        if query is not None:
            self.request.form["b_size"] = str(query["b_size"])
        results = search(query, b_start)
        batch = HypermediaBatch(self.request, results)
        data = {
            "@id": batch.canonical_url,
            "items_total": batch.items_total,
            "items": [self.item(brain) for brain in batch],
        }
        if batch.links:
            data["batching"] = batch.links
        return data


class PoliciesGet(ListingService):
    """GET /@policies?q=&level=&topic=&industry=&size=&district=&date_from=&date_to=&status=&sort=&b_start=&b_size="""

    def query(self):
        return policy_query(self.request.form)

    def item(self, brain):
        data = super().item(brain)
        valid_to = iso_date(brain.policy_valid_to)
        data.update(
            {
                "doc_number": brain.policy_doc_number,
                "issuing_authority": brain.policy_authority,
                "level": self.terms(LEVELS, [brain.policy_level])[0] if brain.policy_level else None,
                "topics": self.terms(TOPICS, brain.policy_topics),
                "districts": [
                    {"token": d, "title": SHANGHAI_DISTRICTS[d]} for d in brain.policy_districts or () if d in SHANGHAI_DISTRICTS
                ],
                "publish_date": iso_date(brain.policy_publish_date),
                "valid_to": valid_to,
                "current": brain.review_state == "published"
                and (valid_to is None or valid_to >= datetime.date.today().isoformat()),
            }
        )
        return data


class NewsGet(ListingService):
    """GET /@news?q=&date_from=&date_to=&sort=&b_start=&b_size="""

    def query(self):
        return article_query(self.request.form, "News Item", "/".join(api.portal.get()["news"].getPhysicalPath()))


class NoticesGet(ListingService):
    """GET /@notices?q=&date_from=&date_to=&sort=&b_start=&b_size="""

    def query(self):
        return article_query(self.request.form, "Document", "/".join(api.portal.get()["notices"].getPhysicalPath()))
