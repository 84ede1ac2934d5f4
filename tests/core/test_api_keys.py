"""API keys for machine clients: issued and revoked by administrators, stored hashed,
limited to named endpoints and IP ranges, rate-limited, every call logged."""

from finserv.core import apikeys
from finserv.core.audit import get_store
from plone import api
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID

import pytest
import transaction


@pytest.fixture
def site(functional_portal):
    setRoles(functional_portal, TEST_USER_ID, ["Manager"])
    api.user.create(email="sys@icbc.example.cn", username="icbc-system", password="Secret-pass-2024!")
    api.group.add_user(groupname="institutions", username="icbc-system")
    api.user.create(email="r@example.cn", username="reviewer", password="Secret-pass-2024!")
    api.group.add_user(groupname="content-reviewers", username="reviewer")
    transaction.commit()
    apikeys.limiter.reset()
    return functional_portal


def issue(manager_request, **overrides):
    data = {"name": "工商银行贷款回调", "principal": "icbc-system", "endpoints": ["@policies"], "rate_limit": 5}
    data.update(overrides)
    response = manager_request.post("/@api-keys", json=data)
    assert response.status_code == 201, response.text
    return response.json()["key"], response.json()["info"]


def client(request_factory, key):
    session = request_factory()
    session.headers["X-API-Key"] = key
    return session


def test_administrator_issues_a_key_and_only_a_hash_is_stored(site, manager_request):
    key, info = issue(manager_request)
    assert key.startswith("fsk_") and info["principal"] == "icbc-system"
    transaction.begin()
    stored = apikeys.get_store(site).keys[info["id"]]
    secret = key.split("_", 2)[2]
    assert secret not in repr(dict(stored)) and "digest" in stored
    listing = manager_request.get("/@api-keys").json()["items"]
    assert [k["id"] for k in listing] == [info["id"]] and "digest" not in listing[0]


def test_key_authenticates_as_its_principal_on_allowed_endpoint(site, manager_request, request_factory):
    key, _ = issue(manager_request, endpoints=["@users"])
    response = client(request_factory, key).get("/@users/icbc-system")
    assert response.status_code == 200
    assert response.json()["id"] == "icbc-system"


def test_key_refused_on_other_endpoints(site, manager_request, request_factory):
    key, _ = issue(manager_request)
    response = client(request_factory, key).get("/@users/icbc-system")
    assert response.status_code == 403
    assert "无权调用该接口" in response.json()["message"]


def test_revoked_key_gets_401(site, manager_request, request_factory):
    key, info = issue(manager_request)
    assert client(request_factory, key).get("/@policies").status_code == 200
    assert manager_request.delete(f"/@api-keys/{info['id']}").status_code == 204
    response = client(request_factory, key).get("/@policies")
    assert response.status_code == 401
    assert "已被吊销" in response.json()["message"]


def test_wrong_or_forged_key_gets_401(site, manager_request, request_factory):
    key, _ = issue(manager_request)
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert client(request_factory, forged).get("/@policies").status_code == 401
    assert client(request_factory, "not-a-key").get("/@policies").status_code == 401


def test_ip_whitelist(site, manager_request, request_factory):
    key, _ = issue(manager_request, ip_ranges=["10.8.0.0/16"])
    response = client(request_factory, key).get("/@policies")
    assert response.status_code == 403
    assert "不允许从地址" in response.json()["message"]
    key, _ = issue(manager_request, ip_ranges=["127.0.0.0/8"])
    assert client(request_factory, key).get("/@policies").status_code == 200


def test_rate_limit_answers_429(site, manager_request, request_factory):
    key, _ = issue(manager_request, rate_limit=3)
    session = client(request_factory, key)
    assert [session.get("/@policies").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_every_call_is_logged(site, manager_request, request_factory):
    key, info = issue(manager_request)
    client(request_factory, key).get("/@policies")
    transaction.begin()
    store = get_store(site)
    actions = [store.get(seq) for seq in range(1, store.last_seq + 1)]
    calls = [r for r in actions if r["action"] == "apikey.call"]
    assert calls and calls[-1]["actor"] == "icbc-system" and calls[-1]["details"]["key"] == info["id"]
    assert any(r["action"] == "apikey.issued" for r in actions)


def test_only_administrators_manage_keys(site, request_factory):
    member = request_factory(basic_auth=("icbc-system", "Secret-pass-2024!"))
    assert member.get("/@api-keys").status_code in (401, 403)
    assert member.post("/@api-keys", json={"name": "x", "principal": "icbc-system", "endpoints": ["*"]}).status_code in (401, 403)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "principal": "icbc-system", "endpoints": ["*"]}, "名称"),
        ({"name": "x", "principal": "nobody", "endpoints": ["*"]}, "不存在"),
        ({"name": "x", "principal": "icbc-system", "endpoints": ["policies"]}, "接口"),
        ({"name": "x", "principal": "icbc-system", "endpoints": ["*"], "ip_ranges": ["10.1.2.300/24"]}, "IP"),
        ({"name": "x", "principal": "icbc-system", "endpoints": ["*"], "rate_limit": 0}, "频率"),
        ({"name": "x", "principal": "reviewer", "endpoints": ["*"]}, "工作人员"),
    ],
)
def test_bad_key_requests_get_a_chinese_message(site, manager_request, data, message):
    response = manager_request.post("/@api-keys", json=data)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert manager_request.get("/@api-keys").json()["items"] == []


def test_administrators_page_issues_and_lists_keys(site, request_factory):
    browser = request_factory(role="Manager", api=False)
    page = browser.get("/@@api-keys")
    assert page.status_code == 200
    assert "API 密钥" in page.text and "签发" in page.text
