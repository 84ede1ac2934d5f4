"""The mini-program's view of policies, news and notices over the REST API."""

from finserv.testing import make_policy
from finserv.testing import publish
from plone import api
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import TEST_USER_ID

import base64
import datetime
import pytest
import transaction


@pytest.fixture
def site(functional_portal):
    portal = functional_portal
    setRoles(portal, TEST_USER_ID, ["Manager"])
    rcj = make_policy(portal["policies"], id="rcj", valid_to=datetime.date(2099, 1, 1))
    publish(rcj)
    draft = make_policy(portal["policies"], id="draft", title="内部草稿：人才奖修订稿")
    pd = make_policy(portal["policies"], id="pd", title="浦东新区促进金融科技发展的若干措施", level="district", districts=["310115"], doc_number="浦府规〔2025〕2号")
    publish(pd)
    for i in range(3):
        news = api.content.create(container=portal["news"], type="News Item", id=f"n{i}", title=f"金融人才工作动态{i}")
        api.content.transition(obj=news, transition="publish")
    notice = api.content.create(container=portal["notices"], type="Document", id="tz", title="关于开展人才奖申报的通知")
    api.content.transition(obj=notice, transition="publish")
    transaction.commit()
    return portal


def test_anonymous_lists_published_policies_with_chinese_search(site, anon_request):
    response = anon_request.get("/@policies", params={"q": "人才奖"})
    assert response.status_code == 200
    data = response.json()
    assert data["items_total"] == 1
    item = data["items"][0]
    assert item["title"] == "上海金融人才奖评审办法"
    assert item["doc_number"] == "沪金规〔2024〕3号"
    assert item["level"] == {"token": "municipal", "title": "市级"}
    assert item["publish_date"] == "2024-06-18"
    assert item["valid_to"] == "2099-01-01"
    assert item["current"] is True


def test_policy_filters_over_rest(site, anon_request):
    data = anon_request.get("/@policies", params={"level": "district", "district": "310115"}).json()
    assert [i["@id"].rsplit("/", 1)[1] for i in data["items"]] == ["pd"]
    assert data["items"][0]["districts"] == [{"token": "310115", "title": "浦东新区"}]


def test_policies_are_batched(site, anon_request):
    data = anon_request.get("/@policies", params={"b_size": 1}).json()
    assert data["items_total"] == 2
    assert len(data["items"]) == 1
    assert "next" in data["batching"]
    second = anon_request.get("/@policies", params={"b_size": 1, "b_start": 1}).json()
    assert second["items"][0]["@id"] != data["items"][0]["@id"]


@pytest.mark.parametrize(
    "params",
    [{"level": "x"}, {"date_from": "yesterday"}, {"b_size": "-1"}, {"status": "secret"}, {"q": "金" * 200}, {"b_start": "abc"}],
)
def test_invalid_filters_answer_400_with_a_message(site, anon_request, params):
    response = anon_request.get("/@policies", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "BadRequest"
    assert body["message"]


def test_news_and_notices_lists(site, anon_request):
    news = anon_request.get("/@news", params={"q": "人才"}).json()
    assert news["items_total"] == 3
    assert all(i["@type"] == "News Item" for i in news["items"])
    assert news["items"][0]["effective"] == datetime.date.today().isoformat()
    notices = anon_request.get("/@notices", params={"q": "人才奖"}).json()
    assert [i["title"] for i in notices["items"]] == ["关于开展人才奖申报的通知"]
    assert anon_request.get("/@news", params={"date_from": "bad"}).status_code == 400


def test_full_policy_over_rest(site, anon_request):
    response = anon_request.get("/policies/rcj")
    assert response.status_code == 200
    data = response.json()
    assert data["doc_number"] == "沪金规〔2024〕3号"
    assert data["issuing_authority"] == "中共上海市委金融委员会办公室"
    assert anon_request.get("/policies/draft").status_code == 401


def test_mini_program_logs_in_with_jwt(site, anon_request, request_factory):
    api.user.create(email="mp@example.cn", username="mpuser", password="Secret-pass-2024!")
    transaction.commit()
    response = anon_request.post("/@login", json={"login": "mpuser", "password": "Secret-pass-2024!"})
    assert response.status_code == 200
    token = response.json()["token"]
    session = request_factory()
    session.headers["Authorization"] = f"Bearer {token}"
    assert session.get("/@users/mpuser").status_code == 200
    assert anon_request.post("/@login", json={"login": "mpuser", "password": "wrong"}).status_code == 401


def _post_policy(session, **overrides):
    data = {
        "@type": "Policy",
        "title": "测试政策",
        "issuing_authority": "上海市地方金融管理局",
        "level": "municipal",
        "publish_date": "2024-01-01",
    }
    data.update(overrides)
    return session.post("/policies", json=data)


def test_rest_refuses_expiry_before_effective_and_saves_nothing(site, manager_request):
    response = _post_policy(manager_request, valid_from="2025-01-01", valid_to="2024-01-01")
    assert response.status_code == 400
    assert response.json()["message"] == "失效日期不能早于生效日期。"
    assert "ce-shi-zheng-ce" not in site["policies"].objectIds()
    assert len(site["policies"].objectIds()) == 3


def test_rest_refuses_malformed_document_number(site, manager_request):
    response = _post_policy(manager_request, doc_number="2024年3号")
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("文号格式不正确")
    assert body["errors"][0]["field"] == "doc_number"
    assert len(site["policies"].objectIds()) == 3


def test_rest_refuses_forbidden_attachment_and_saves_nothing(site, manager_request):
    payload = {
        "@type": "File",
        "title": "安装程序",
        "file": {"data": base64.b64encode(b"MZ").decode(), "encoding": "base64", "filename": "setup.exe", "content-type": "application/octet-stream"},
    }
    response = manager_request.post("/policies/rcj", json=payload)
    assert response.status_code == 400
    assert response.json()["message"].startswith("不允许上传该类型的附件（setup.exe）")
    transaction.begin()
    assert site["policies"]["rcj"].objectIds() == []
    payload["file"]["filename"] = "细则.pdf"
    assert manager_request.post("/policies/rcj", json=payload).status_code == 201


def test_rest_creates_a_valid_policy_in_draft(site, manager_request):
    response = _post_policy(manager_request, doc_number="沪金规(2025)8号", topics=["talent"], districts=["310101"])
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["review_state"] == "draft"
    assert data["doc_number"] == "沪金规〔2025〕8号"
