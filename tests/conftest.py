from finserv.testing import FINSERV_FUNCTIONAL_TESTING
from finserv.testing import FINSERV_INTEGRATION_TESTING
from pytest_plone import fixtures_factory

pytest_plugins = ["pytest_plone"]

globals().update(
    fixtures_factory(
        (
            (FINSERV_FUNCTIONAL_TESTING, "functional"),
            (FINSERV_INTEGRATION_TESTING, "integration"),
        )
    )
)
