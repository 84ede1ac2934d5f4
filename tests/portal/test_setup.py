from plone import api


def test_profile_installed(installer):
    assert installer.is_product_installed("finserv")


def test_sections_exist(portal):
    for id_ in ("policies", "news", "notices", "forum", "talent", "support", "financing", "compensation", "contracts"):
        assert id_ in portal.objectIds()
    assert portal["policies"].Title() == "政策文件"


def test_site_language_and_timezone(portal):
    assert api.portal.get_registry_record("plone.default_language") == "zh-cn"
    assert api.portal.get_registry_record("plone.portal_timezone") == "Asia/Shanghai"


def test_big_sections_do_not_list_their_items_in_a_navigation_portlet(portal):
    from plone.portlets.constants import CONTEXT_CATEGORY
    from plone.portlets.interfaces import ILocalPortletAssignmentManager
    from plone.portlets.interfaces import IPortletManager
    from zope.component import getMultiAdapter
    from zope.component import getUtility

    manager = getUtility(IPortletManager, name="plone.leftcolumn")
    for section in ("news", "notices"):
        assignable = getMultiAdapter((portal[section], manager), ILocalPortletAssignmentManager)
        assert assignable.getBlacklistStatus(CONTEXT_CATEGORY) is True
    assert "Policy" not in api.portal.get_registry_record("plone.displayed_types")


def test_dates_read_in_shanghai_time():
    from DateTime import DateTime
    from finserv.core.dates import iso_date

    assert iso_date(DateTime("2024-06-18 00:00:00 Asia/Shanghai")) == "2024-06-18"
    assert iso_date(DateTime("2024-06-17 16:30:00 UTC")) == "2024-06-18"
    assert iso_date(DateTime("2999-12-31 00:00:00 Asia/Shanghai")) is None
    assert iso_date(None) is None


def test_first_anonymous_page_view_writes_nothing(functional_portal):
    """plone.portlets stores each assignment's settings on first view; the profile creates
    them at install, so an anonymous visitor never writes (nor conflicts with another)."""
    import requests
    import transaction

    transaction.commit()
    db = functional_portal._p_jar.db()
    before = db.lastTransaction()
    for path in ("", "/policies", "/news"):
        assert requests.get(functional_portal.absolute_url() + path).status_code == 200
    assert db.lastTransaction() == before
