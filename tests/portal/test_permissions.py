"""The permission matrix of docs/permissions.md, as users experience it."""

from finserv.testing import make_policy
from finserv.testing import publish
from plone import api
from plone.app.testing import logout

import pytest


@pytest.fixture
def district_docs(portal):
    with api.env.adopt_roles(["Manager"]):
        pudong = api.content.create(container=portal["districts"]["310115"], type="Document", id="plan", title="浦东走访计划")
        xuhui = api.content.create(container=portal["districts"]["310104"], type="Document", id="list", title="徐汇上市后备名单")
    return pudong, xuhui


def test_groups_for_the_whole_platform_exist(portal):
    ids = {g.getId() for g in api.group.get_groups()}
    for group in ("sys-admins", "office-staff", "content-editors", "content-reviewers", "institutions", "enterprises", "public"):
        assert group in ids
    assert len([i for i in ids if i.startswith("district-")]) == 16
    assert api.group.get("district-310115").getProperty("title") == "浦东新区金融办"


def test_district_user_sees_only_its_own_district(portal, users, district_docs):
    pudong, xuhui = district_docs
    with api.env.adopt_user(username="pudong"):
        found = {b.Title for b in api.content.find(portal_type="Document", path="/".join(portal["districts"].getPhysicalPath()))}
        assert found == {"浦东走访计划"}
        assert api.user.has_permission("View", obj=pudong)
        assert not api.user.has_permission("View", obj=xuhui)
    with api.env.adopt_user(username="xuhui"):
        assert not api.user.has_permission("View", obj=pudong)
        assert api.user.has_permission("View", obj=xuhui)


def test_district_user_can_add_to_its_own_zone_only(portal, users):
    with api.env.adopt_user(username="pudong"):
        assert api.user.has_permission("Add portal content", obj=portal["districts"]["310115"])
        assert not api.user.has_permission("Add portal content", obj=portal["districts"]["310104"])


def test_office_staff_see_every_district(portal, users, district_docs):
    with api.env.adopt_user(username="staff"):
        assert all(api.user.has_permission("View", obj=d) for d in district_docs)


def test_public_and_anonymous_see_no_district_content(portal, users, district_docs):
    with api.env.adopt_user(username="citizen"):
        assert not any(api.user.has_permission("View", obj=d) for d in district_docs)
        assert not api.content.find(portal_type="Document", path="/".join(portal["districts"].getPhysicalPath()))
    logout()
    assert not any(api.user.has_permission("View", obj=d) for d in district_docs)


def test_reviewer_cannot_edit_published_policy_but_can_archive(portal, users):
    with api.env.adopt_roles(["Manager"]):
        policy = make_policy(portal["policies"])
    publish(policy)
    with api.env.adopt_user(username="reviewer"):
        assert not api.user.has_permission("Modify portal content", obj=policy)
        api.content.transition(obj=policy, transition="archive")
    assert api.content.get_state(policy) == "archived"


def test_public_users_cannot_add_content(portal, users):
    with api.env.adopt_user(username="citizen"):
        for section in ("policies", "news", "notices"):
            assert not api.user.has_permission("Add portal content", obj=portal[section])
