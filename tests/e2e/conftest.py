"""Browser tests: Playwright driving Debian's chromium against the acceptance layer's server."""

from finserv.portal.demo import install_demo
from playwright.sync_api import sync_playwright
from plone import api

import os
import pytest
import shutil
import transaction

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: run `make e2e-deps` (make test does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def site_url(functional_portal):
    """The site as `make start` creates it, demo content included, served over HTTP."""
    with api.env.adopt_roles(["Manager"]):
        install_demo()
    transaction.commit()
    return functional_portal.absolute_url()


@pytest.fixture(params=[(1366, 900), (390, 844)], ids=["desktop", "phone"])
def page(browser, request):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
