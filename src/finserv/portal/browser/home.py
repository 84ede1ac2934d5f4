"""The portal's home page: latest policies, news and notices, and the platform's areas."""

from finserv.core.dates import iso_date
from finserv.portal.policysearch import article_query
from finserv.portal.policysearch import policy_query
from finserv.portal.policysearch import search
from finserv.portal.structure import SECTIONS
from plone import api
from Products.Five.browser import BrowserView


class HomeView(BrowserView):
    def latest_policies(self):
        return search(policy_query({"b_size": "6"}))[:6]

    def _articles(self, section, portal_type):
        path = "/".join(self.context[section].getPhysicalPath())
        return search(article_query({"b_size": "6"}, portal_type, path))[:6]

    def latest_news(self):
        return self._articles("news", "News Item")

    def latest_notices(self):
        return self._articles("notices", "Document")

    def site_title(self):
        return api.portal.get_registry_record("plone.site_title")

    def areas(self):
        portal_url = api.portal.get().absolute_url()
        return [
            {"id": id_, "title": title, "description": description, "url": f"{portal_url}/{id_}"}
            for id_, title, description, _allowed, _layout in SECTIONS[3:]
        ]

    def date(self, value):
        return iso_date(value) or ""
