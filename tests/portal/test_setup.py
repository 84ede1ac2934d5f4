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
