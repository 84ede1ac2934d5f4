"""notify: e-mail and SMS from templates managers edit, delivered only after commit."""

from finserv.core.notify import ISMSGateway
from finserv.core.notify import TemplateError
from finserv.core.notify import render
from finserv.core.notify import send
from finserv.core.notify.store import get_store
from plone import api
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from zope.component import getGlobalSiteManager
from zope.component.hooks import getSite
from zope.component.hooks import setSite
from zope.interface import implementer

import json
import pytest
import re
import transaction


@pytest.fixture
def site(functional_portal):
    previous = getSite()
    setSite(functional_portal)
    yield functional_portal
    setSite(previous)


def messages(portal):
    transaction.begin()
    store = get_store(portal)
    return [store.outbox[k] for k in store.outbox.keys()]


def test_nothing_is_sent_when_the_transaction_aborts(site):
    send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)
    transaction.abort()
    assert messages(site) == []


def test_a_message_is_sent_once_after_commit(site):
    message = send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)
    assert message["id"] not in get_store(site).outbox  # nothing delivered before the commit
    transaction.commit()
    sent = messages(site)
    assert len(sent) == 1
    assert sent[0]["recipient"] == "13800138000"
    assert "123456" in sent[0]["body"] and "5 分钟" in sent[0]["body"]
    assert get_store(site).count() == 1
    transaction.commit()  # a later commit does not send it again
    assert len(messages(site)) == 1


def test_a_retried_request_sends_once(site):
    # a ConflictError retry aborts the first attempt and runs the request again
    send("sms", "13800138000", "sms_reset_code", code="111111", minutes=5)
    transaction.abort()
    send("sms", "13800138000", "sms_reset_code", code="222222", minutes=5)
    transaction.commit()
    assert [re.search(r"\d{6}", m["body"]).group(0) for m in messages(site)] == ["222222"]


def test_default_templates_are_chinese_and_use_the_site_title(site):
    rendered = render("email_reset_code", code="654321", minutes=5, fullname="张三")
    assert rendered["channel"] == "email"
    assert "重置密码" in rendered["subject"]
    assert "张三，您好" in rendered["body"] and "654321" in rendered["body"]
    title = api.portal.get_registry_record("plone.site_title")
    assert title in rendered["subject"]


def test_unknown_templates_and_wrong_channels_are_refused(site):
    with pytest.raises(TemplateError):
        send("sms", "13800138000", "no_such_template")
    with pytest.raises(ValueError):
        send("email", "a@example.cn", "sms_login_code", code="1")
    with pytest.raises(ValueError):
        send("fax", "a@example.cn", "sms_login_code", code="1")
    with pytest.raises(ValueError):
        send("sms", "", "sms_login_code", code="1")


@pytest.fixture
def manager_browser(request_factory):
    session = request_factory(api=False, basic_auth=(SITE_OWNER_NAME, SITE_OWNER_PASSWORD))
    session.headers["Accept"] = "text/html"
    return session


def _token(page):
    return re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)


def test_managers_edit_templates_through_the_web(site, manager_browser):
    page = manager_browser.get("/@@notify-templates")
    assert page.status_code == 200 and "短信登录验证码" in page.text
    body = "【测试】验证码 ${code}，请在 ${minutes} 分钟内使用。"
    manager_browser.post(
        "/@@notify-templates",
        data={"name": "sms_login_code", "body": body, "form.save": "1", "_authenticator": _token(page)},
    )
    transaction.begin()
    send("sms", "13800138000", "sms_login_code", code="777777", minutes=5)
    transaction.commit()
    assert messages(site)[-1]["body"] == "【测试】验证码 777777，请在 5 分钟内使用。"
    # back to the default
    manager_browser.post(
        "/@@notify-templates", data={"name": "sms_login_code", "form.reset": "1", "_authenticator": _token(page)}
    )
    transaction.begin()
    assert "sms_login_code" not in get_store(site).templates


def test_template_with_a_broken_placeholder_is_refused(site, manager_browser):
    page = manager_browser.get("/@@notify-templates")
    answer = manager_browser.post(
        "/@@notify-templates",
        data={"name": "sms_login_code", "body": "验证码 ${code", "form.save": "1", "_authenticator": _token(page)},
    )
    assert "占位符写法有误" in answer.text
    transaction.begin()
    assert "sms_login_code" not in get_store(site).templates


def test_template_editor_needs_a_csrf_token(site, manager_browser):
    answer = manager_browser.post("/@@notify-templates", data={"name": "sms_login_code", "body": "x", "form.save": "1"})
    assert answer.status_code == 403
    transaction.begin()
    assert "sms_login_code" not in get_store(site).templates


def test_outbox_is_visible_to_managers_only(site, manager_browser, manager_request, anon_request, request_factory):
    send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)
    transaction.commit()
    page = manager_browser.get("/@@notify-outbox")
    assert page.status_code == 200 and "13800138000" in page.text and "123456" in page.text
    items = manager_request.get("/@notify-outbox").json()["items"]
    assert items[0]["template"] == "sms_login_code"
    assert anon_request.get("/@notify-outbox").status_code == 401
    api.user.create(email="m@example.cn", username="member", password="Secret-pass-2024!")
    transaction.commit()
    member = request_factory(basic_auth=("member", "Secret-pass-2024!"))
    assert member.get("/@notify-outbox").status_code in (401, 403)


def test_outbox_is_also_written_to_a_file(site, monkeypatch, tmp_path):
    path = tmp_path / "outbox.jsonl"
    monkeypatch.setenv("FINSERV_OUTBOX", str(path))
    send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)
    send("email", "a@example.cn", "email_reset_code", code="654321", minutes=5, fullname="张三")
    transaction.commit()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(m["channel"], m["recipient"]) for m in lines] == [("sms", "13800138000"), ("email", "a@example.cn")]


@implementer(ISMSGateway)
class RecordingGateway:
    def __init__(self):
        self.sent = []

    def send(self, mobile, text, message):
        self.sent.append((mobile, text))


def test_a_deployment_replaces_the_sms_gateway(site):
    gateway = RecordingGateway()
    gsm = getGlobalSiteManager()
    original = gsm.getUtility(ISMSGateway)
    gsm.registerUtility(gateway, ISMSGateway)
    try:
        send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)
        transaction.abort()
        assert gateway.sent == []
        send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)
        transaction.commit()
    finally:
        gsm.registerUtility(original, ISMSGateway)
    assert len(gateway.sent) == 1 and "123456" in gateway.sent[0][1]
    assert messages(site) == []  # the carrier got it, not the outbox


def test_email_goes_through_the_mailhost_when_switched_on(site, monkeypatch):
    sent = []
    monkeypatch.setattr(type(site.MailHost.aq_base), "send", lambda self, msg, *a, **kw: sent.append(msg), raising=False)
    api.portal.set_registry_record("finserv.notify.use_mailhost", True)
    api.portal.set_registry_record("plone.email_from_address", "noreply@example.cn")
    transaction.commit()
    send("email", "a@example.cn", "email_reset_code", code="654321", minutes=5, fullname="张三")
    transaction.abort()
    assert sent == []
    send("email", "a@example.cn", "email_reset_code", code="654321", minutes=5, fullname="张三")
    transaction.commit()
    assert len(sent) == 1 and "a@example.cn" in sent[0]
    assert messages(site) == []


def test_install_is_idempotent(portal):
    from finserv.core.notify.setup import install_notify

    store = get_store(portal)
    install_notify(portal)
    assert get_store(portal) is store
    assert api.portal.get_registry_record("finserv.notify.use_mailhost") is False
