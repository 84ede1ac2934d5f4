from plone import api
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID

import pytest

PASSWORD = "Secret-pass-2024!"


@pytest.fixture
def users(portal):
    """One user per kind of platform user, in the groups the site defines."""
    made = {}
    for userid, group in [
        ("editor", "content-editors"),
        ("reviewer", "content-reviewers"),
        ("pudong", "district-310115"),
        ("xuhui", "district-310104"),
        ("staff", "office-staff"),
        ("citizen", "public"),
    ]:
        api.user.create(email=f"{userid}@example.cn", username=userid, password=PASSWORD)
        api.group.add_user(groupname=group, username=userid)
        made[userid] = userid
    return made


@pytest.fixture
def manager(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    return portal
