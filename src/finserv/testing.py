"""Test layers: the finserv profile on a Plone site, with and without a WSGI server."""

from plone.app.contenttypes.testing import PLONE_APP_CONTENTTYPES_FIXTURE
from plone.app.testing import applyProfile
from plone.app.testing import FunctionalTesting
from plone.app.testing import IntegrationTesting
from plone.app.testing import PloneSandboxLayer
from plone.testing.zope import WSGI_SERVER_FIXTURE

import os

os.environ.setdefault("zope_i18n_compile_mo_files", "true")


class FinservLayer(PloneSandboxLayer):
    defaultBases = (PLONE_APP_CONTENTTYPES_FIXTURE,)

    def setUpZope(self, app, configurationContext):
        import plone.restapi
        import finserv

        self.loadZCML(package=plone.restapi)
        self.loadZCML(package=finserv)

    def setUpPloneSite(self, portal):
        portal.setLanguage("zh-cn")
        applyProfile(portal, "finserv:default")


class FinservDemoLayer(FinservLayer):
    """The site as `make start` creates it: profile plus Chinese demo content."""

    def setUpPloneSite(self, portal):
        super().setUpPloneSite(portal)
        applyProfile(portal, "finserv:demo")


FINSERV_FIXTURE = FinservLayer()
FINSERV_DEMO_FIXTURE = FinservDemoLayer()
FINSERV_INTEGRATION_TESTING = IntegrationTesting(bases=(FINSERV_FIXTURE,), name="Finserv:Integration")
FINSERV_FUNCTIONAL_TESTING = FunctionalTesting(
    bases=(FINSERV_FIXTURE, WSGI_SERVER_FIXTURE), name="Finserv:Functional"
)
FINSERV_ACCEPTANCE_TESTING = FunctionalTesting(
    bases=(FINSERV_DEMO_FIXTURE, WSGI_SERVER_FIXTURE), name="Finserv:Acceptance"
)
