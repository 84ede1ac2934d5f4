"""Test layers: the finserv profile on a Plone site, with and without a WSGI server."""

from plone import api
from plone.app.contenttypes.testing import PLONE_APP_CONTENTTYPES_FIXTURE
from plone.app.testing import applyProfile
from plone.app.testing import FunctionalTesting
from plone.app.testing import IntegrationTesting
from plone.app.testing import PloneSandboxLayer
from Products.CMFCore.indexing import processQueue
from plone.testing.zope import WSGI_SERVER_FIXTURE

import datetime
import os
import tempfile

os.environ.setdefault("zope_i18n_compile_mo_files", "true")
# Keys and the audit checkpoint file of test runs live in a throwaway directory, never in var/.
_TEST_VAR = tempfile.mkdtemp(prefix="finserv-test-")
os.environ.setdefault("FINSERV_KEY_DIR", os.path.join(_TEST_VAR, "keys"))
os.environ.setdefault("FINSERV_AUDIT_CHECKPOINTS", os.path.join(_TEST_VAR, "audit-checkpoints.jsonl"))


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
        # Index while the site is still the component site: plone.app.testing unsets it
        # before committing, and indexers then see no portal_types and no workflow.
        processQueue()


FINSERV_FIXTURE = FinservLayer()
FINSERV_INTEGRATION_TESTING = IntegrationTesting(bases=(FINSERV_FIXTURE,), name="Finserv:Integration")
# REST and browser tests: a real WSGI server; each test gets a fresh copy of the site.
FINSERV_FUNCTIONAL_TESTING = FunctionalTesting(
    bases=(FINSERV_FIXTURE, WSGI_SERVER_FIXTURE), name="Finserv:Functional"
)


def make_policy(container, **overrides):
    data = {
        "title": "上海金融人才奖评审办法",
        "doc_number": "沪金规〔2024〕3号",
        "issuing_authority": "中共上海市委金融委员会办公室",
        "level": "municipal",
        "publish_date": datetime.date(2024, 6, 18),
        "valid_from": datetime.date(2024, 7, 1),
        "topics": ["talent"],
    }
    data.update(overrides)
    return api.content.create(container=container, type="Policy", **data)


def publish(obj):
    with api.env.adopt_roles(["Manager"]):
        api.content.transition(obj=obj, transition="submit")
        api.content.transition(obj=obj, transition="publish")
