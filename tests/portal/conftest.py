from plone import api
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID

import datetime
import pytest

PASSWORD = "Secret-pass-2024!"


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
