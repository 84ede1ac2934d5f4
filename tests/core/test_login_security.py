"""Login security as users meet it, over HTTP: the browser login form, HTTP Basic auth and the
REST API (JWT) follow the same rules — password policy, PBKDF2-SM3 hashes, lockout after 5
failures, two-factor authentication for staff, SMS codes, self-service reset, expiring sessions.

Time is frozen where it matters by patching finserv.core.login.clock.now (the WSGI server runs
in this process, so the patch reaches it).
"""

from AuthEncoding import AuthEncoding
from finserv.core.login import clock
from finserv.core.login.utils import get_plugin
from finserv.core.notify.store import get_store
from plone import api
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD

import base64
import binascii
import json
import pyotp
import pytest
import re
import time
import transaction

PASSWORD = "Secret-pass-2024!"
NEW_PASSWORD = "Brand-new-Pass-42"
WRONG = "Wrong-pass-2024!"
CITIZEN_MOBILE = "13800138000"
STAFF_MOBILE = "13900139000"


class FakeClock:
    def __init__(self):
        self.now = float(int(time.time() // 30 * 30))  # the start of a TOTP step

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def frozen(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def make_user(userid, group, mobile=None, password=PASSWORD):
    properties = {"fullname": f"测试用户{userid}"}
    if mobile:
        properties["mobile"] = mobile
    api.user.create(email=f"{userid}@example.cn", username=userid, password=password, properties=properties)
    if group:
        api.group.add_user(groupname=group, username=userid)


@pytest.fixture
def site(functional_portal):
    make_user("citizen", "public", CITIZEN_MOBILE)
    make_user("staffer", "office-staff", STAFF_MOBILE)
    make_user("editor", "content-editors")  # staff without mobile or authenticator
    transaction.commit()
    return functional_portal


@pytest.fixture
def web(request_factory):
    session = request_factory(api=False)
    session.headers["Accept"] = "text/html"
    return session


def sync():
    transaction.begin()  # see what side transactions and after-commit hooks committed


def outbox(portal):
    sync()
    store = get_store(portal)
    return [store.outbox[k] for k in store.outbox.keys()]


def last_code(portal, recipient):
    for message in reversed(outbox(portal)):
        if message["recipient"] == recipient:
            return re.search(r"\d{6}", message["body"]).group(0)
    raise AssertionError(f"no message to {recipient}")


def audit_actions(portal):
    from finserv.core.audit import get_store as audit_store

    sync()
    return [(rec["action"], rec["target"]) for _seq, rec in audit_store(portal).items()]


def rest_login(anon_request, login, password, **extra):
    return anon_request.post("/@login", json={"login": login, "password": password, **extra})


def bearer(request_factory, token):
    session = request_factory()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def form_login(web, login, password):
    return web.post(
        "/login",
        data={"__ac_name": login, "__ac_password": password, "buttons.login": "登录", "came_from": ""},
        allow_redirects=False,
    )


def lock(anon_request, login):
    for _ in range(5):
        rest_login(anon_request, login, WRONG)


# --- passwords: hashing and policy -----------------------------------------------------------


def test_new_passwords_are_stored_with_the_pbkdf2_sm3_scheme(portal):
    api.user.create(email="new@example.cn", username="newuser", password=PASSWORD)
    stored = portal.acl_users.source_users._user_passwords["newuser"]
    assert stored.startswith(b"{PBKDF2-SM3}600000$")
    assert AuthEncoding.pw_validate(stored, PASSWORD)
    assert not AuthEncoding.pw_validate(stored, WRONG)


def test_changed_passwords_are_stored_with_the_pbkdf2_sm3_scheme(portal):
    api.user.create(email="new@example.cn", username="newuser", password=PASSWORD)
    portal.acl_users.userSetPassword("newuser", NEW_PASSWORD)
    stored = portal.acl_users.source_users._user_passwords["newuser"]
    assert stored.startswith(b"{PBKDF2-SM3}") and AuthEncoding.pw_validate(stored, NEW_PASSWORD)


def test_old_ssha_hashes_keep_working_and_are_upgraded_at_login(site, anon_request):
    site.acl_users.source_users._user_passwords["citizen"] = AuthEncoding.pw_encrypt(PASSWORD, "SSHA")
    transaction.commit()
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200
    sync()
    assert site.acl_users.source_users._user_passwords["citizen"].startswith(b"{PBKDF2-SM3}")
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "password, message",
    [
        ("Ab1!xyz", "密码长度至少为 10 位"),
        ("abcdefghijkl", "至少 3 类"),
        ("1234567890123", "至少 3 类"),
        ("Wangfang-2024", "不能包含用户名"),
    ],
)
def test_password_policy_refuses_short_simple_or_login_containing_passwords(site, manager_request, password, message):
    response = manager_request.post(
        "/@users", json={"username": "wangfang", "email": "wangfang@example.cn", "password": password}
    )
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    sync()
    assert api.user.get(username="wangfang") is None


def test_password_policy_message_is_chinese_in_plone_forms(portal):
    error = portal.portal_registration.testPasswordValidity("short")
    assert "密码长度至少为 10 位" in error and "至少 3 类" in error
    assert portal.portal_registration.testPasswordValidity("Good-Password-1") is None


def test_password_policy_minimum_length_is_a_registry_setting(portal):
    api.portal.set_registry_record("finserv.login.password_min_length", 16)
    assert "密码长度至少为 16 位" in portal.portal_registration.testPasswordValidity("Good-Password-1")


def change_password(session, old, new):
    return session.post("/@users/citizen/reset-password", json={"old_password": old, "new_password": new})


def test_none_of_the_last_five_passwords_can_be_reused(site, anon_request, request_factory):
    session = bearer(request_factory, rest_login(anon_request, "citizen", PASSWORD).json()["token"])
    passwords = [PASSWORD] + [f"Rotation-{i}-Pass!" for i in range(1, 6)]
    for old, new in zip(passwords, passwords[1:]):
        response = change_password(session, old, new)
        assert response.status_code in (200, 204), response.text
    # the current password and the four before it are refused
    for reused in passwords[1:]:
        response = change_password(session, passwords[-1], reused)
        assert response.status_code == 400
        assert "最近 5 次" in response.json()["message"]
    # the sixth-last may come back
    assert change_password(session, passwords[-1], PASSWORD).status_code in (200, 204)
    assert ("password.changed", "user:citizen") in audit_actions(site)


def test_password_set_without_plone_validation_is_still_checked(site, anon_request, manager_request):
    # PATCH @users/<id> {"password": ...} by an administrator stores the password without asking
    # the policy plugin; the check when it is stored refuses it all the same
    response = manager_request.patch("/@users/citizen", json={"password": "weak"})
    assert response.status_code == 400 and "密码长度至少为 10 位" in response.json()["message"]
    response = manager_request.patch("/@users/citizen", json={"password": PASSWORD})
    assert response.status_code == 400 and "最近 5 次" in response.json()["message"]
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200


def test_plone_reset_link_form_applies_the_policy_and_the_history(site, web):
    token = site.portal_password_reset.requestReset("citizen")["randomstring"]
    transaction.commit()
    form = {"userid": "citizen", "form.submitted": "1"}
    weak = web.post(f"/passwordreset/{token}", data={**form, "password": "short", "password2": "short"})
    assert "密码长度至少为 10 位" in weak.text
    reused = web.post(f"/passwordreset/{token}", data={**form, "password": PASSWORD, "password2": PASSWORD})
    assert "最近 5 次" in reused.text
    good = web.post(f"/passwordreset/{token}", data={**form, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert good.status_code == 200
    sync()
    assert AuthEncoding.pw_validate(site.acl_users.source_users._user_passwords["citizen"], NEW_PASSWORD)
    assert "__ac" not in web.cookies  # no automatic login: staff would skip the second factor


# --- lockout ---------------------------------------------------------------------------------


def test_lockout_after_exactly_five_wrong_passwords(site, anon_request):
    for _ in range(4):
        response = rest_login(anon_request, "citizen", WRONG)
        assert response.status_code == 401
        assert response.json()["type"] == "Invalid credentials"
        assert response.json()["message"] == "用户名或密码错误。"
    # after four failures the right password still works, and starts the count again
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200
    for _ in range(4):
        assert rest_login(anon_request, "citizen", WRONG).json()["type"] == "Invalid credentials"
    fifth = rest_login(anon_request, "citizen", WRONG)
    assert fifth.status_code == 401
    assert fifth.json()["type"] == "AccountLocked"
    assert "账号已被锁定" in fifth.json()["message"] and "15 分钟" in fifth.json()["message"]
    actions = audit_actions(site)
    assert actions.count(("login.failure", "login:citizen")) == 9
    assert ("login.lockout", "login:citizen") in actions


def test_locked_account_refuses_the_correct_password_everywhere(site, anon_request, request_factory, web):
    lock(anon_request, "citizen")
    response = rest_login(anon_request, "citizen", PASSWORD)
    assert response.status_code == 401 and response.json()["type"] == "AccountLocked"
    basic = request_factory(basic_auth=("citizen", PASSWORD))
    assert basic.get("/@users/citizen").status_code == 401
    page = form_login(web, "citizen", PASSWORD)
    assert "账号已被锁定" in page.text
    assert "__ac" not in page.cookies


def test_wrong_basic_auth_passwords_are_counted_although_each_request_fails(site, request_factory):
    wrong = request_factory(basic_auth=("citizen", WRONG))
    for _ in range(5):
        assert wrong.get("/@users/citizen").status_code == 401  # Unauthorized aborts the transaction
    right = request_factory(basic_auth=("citizen", PASSWORD))
    assert right.get("/@users/citizen").status_code == 401
    sync()
    assert get_plugin(site).failures["citizen"][0] == 5
    assert ("login.lockout", "login:citizen") in audit_actions(site)


def test_wrong_passwords_in_the_browser_form_are_counted(site, web):
    for _ in range(4):
        page = form_login(web, "citizen", WRONG)
        assert "用户名或密码错误" in page.text
    assert "账号已被锁定" in form_login(web, "citizen", WRONG).text
    assert "账号已被锁定" in form_login(web, "citizen", PASSWORD).text


def test_unknown_logins_are_answered_like_wrong_passwords(site, anon_request):
    response = rest_login(anon_request, "nobody", WRONG)
    assert response.status_code == 401 and response.json()["message"] == "用户名或密码错误。"
    lock(anon_request, "nobody")
    assert rest_login(anon_request, "nobody", WRONG).json()["type"] == "AccountLocked"


def test_administrator_unlocks_a_locked_account(site, anon_request, manager_request):
    lock(anon_request, "citizen")
    locked = manager_request.get("/@login-lockouts").json()["items"]
    assert [item["login"] for item in locked] == ["citizen"]
    response = manager_request.post("/@login-unlock", json={"userid": "citizen"})
    assert response.status_code == 200 and response.json()["was_locked"] is True
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200
    assert ("login.unlock", "login:citizen") in audit_actions(site)


def test_members_cannot_unlock_accounts(site, anon_request, request_factory):
    lock(anon_request, "staffer")
    citizen = request_factory(basic_auth=("citizen", PASSWORD))
    assert citizen.post("/@login-unlock", json={"login": "staffer"}).status_code in (401, 403)
    assert rest_login(anon_request, "staffer", PASSWORD).json()["type"] == "AccountLocked"


def test_administrator_unlock_page(site, anon_request, web):
    lock(anon_request, "citizen")
    web.auth = (SITE_OWNER_NAME, SITE_OWNER_PASSWORD)
    page = web.get("/@@login-lockouts")
    assert page.status_code == 200 and "citizen" in page.text
    token = re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)
    web.post("/@@login-lockouts", data={"login": "citizen", "_authenticator": token})
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200


def test_lock_lifts_by_itself_after_fifteen_minutes(site, anon_request, frozen):
    lock(anon_request, "citizen")
    frozen.advance(15 * 60 - 5)
    assert rest_login(anon_request, "citizen", PASSWORD).json()["type"] == "AccountLocked"
    frozen.advance(10)
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200
    # and the count starts from zero again
    for _ in range(4):
        rest_login(anon_request, "citizen", WRONG)
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 200


# --- two-factor authentication ------------------------------------------------------------------


def test_staff_user_cannot_get_a_jwt_without_a_second_factor(site, anon_request, request_factory):
    response = rest_login(anon_request, "staffer", PASSWORD)
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "TwoFactorRequired" and body["methods"] == ["sms"]
    assert "token" not in body
    # nor through HTTP Basic auth
    assert request_factory(basic_auth=("staffer", PASSWORD)).get("/@users/staffer").status_code == 401


def test_staff_user_gets_a_jwt_with_an_sms_code_which_works_once(site, anon_request, request_factory):
    response = rest_login(anon_request, "staffer", PASSWORD, send_sms=True)
    assert response.status_code == 401
    assert response.json()["sms_sent"] is True and response.json()["mobile"] == "139****9000"
    code = last_code(site, STAFF_MOBILE)
    response = rest_login(anon_request, "staffer", PASSWORD, otp=code)
    assert response.status_code == 200, response.text
    assert bearer(request_factory, response.json()["token"]).get("/@users/staffer").status_code == 200
    replay = rest_login(anon_request, "staffer", PASSWORD, otp=code)
    assert replay.status_code == 401 and replay.json()["type"] == "TwoFactorInvalid"


def test_expired_sms_second_factor_code_is_refused(site, anon_request, frozen):
    rest_login(anon_request, "staffer", PASSWORD, send_sms=True)
    code = last_code(site, STAFF_MOBILE)
    frozen.advance(5 * 60 + 1)
    response = rest_login(anon_request, "staffer", PASSWORD, otp=code)
    assert response.status_code == 401 and response.json()["type"] == "TwoFactorInvalid"
    assert ("twofactor.failure", "user:staffer") in audit_actions(site)


def test_wrong_second_factor_codes_count_towards_the_lockout(site, anon_request):
    for _ in range(4):
        assert rest_login(anon_request, "staffer", PASSWORD, otp="000000").json()["type"] == "TwoFactorInvalid"
    assert rest_login(anon_request, "staffer", PASSWORD, otp="000000").json()["type"] == "AccountLocked"


def test_staff_user_without_any_factor_is_told_to_enrol(site, anon_request):
    response = rest_login(anon_request, "editor", PASSWORD)
    assert response.status_code == 401
    assert response.json()["type"] == "TwoFactorSetupRequired"
    assert "双因素认证" in response.json()["message"]


def enrol_totp(request_factory, anon_request, login, frozen):
    session = bearer(request_factory, rest_login(anon_request, login, PASSWORD).json()["token"])
    setup = session.post("/@twofactor", json={"action": "setup"}).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and setup["qr"].startswith("data:image/svg+xml")
    secret = setup["secret"]
    confirm = session.post("/@twofactor", json={"action": "confirm", "code": pyotp.TOTP(secret).at(frozen.now)})
    assert confirm.status_code == 200 and confirm.json()["enabled"] is True
    return secret


def test_public_user_can_enable_an_authenticator_app_and_then_needs_it(site, anon_request, request_factory, frozen):
    secret = enrol_totp(request_factory, anon_request, "citizen", frozen)
    sync()
    record = get_plugin(site).totp["citizen"]
    assert secret.encode() not in record["secret"]  # stored SM4-encrypted
    response = rest_login(anon_request, "citizen", PASSWORD)
    assert response.status_code == 401 and response.json()["methods"] == ["totp", "sms"]
    frozen.advance(30)
    response = rest_login(anon_request, "citizen", PASSWORD, otp=pyotp.TOTP(secret).at(frozen.now))
    assert response.status_code == 200
    assert ("twofactor.enabled", "user:citizen") in audit_actions(site)


def test_replayed_totp_code_is_refused(site, anon_request, request_factory, frozen):
    secret = enrol_totp(request_factory, anon_request, "citizen", frozen)
    enrolment_code = pyotp.TOTP(secret).at(frozen.now)
    # the code used to confirm the enrolment cannot log in
    assert rest_login(anon_request, "citizen", PASSWORD, otp=enrolment_code).json()["type"] == "TwoFactorInvalid"
    frozen.advance(30)
    code = pyotp.TOTP(secret).at(frozen.now)
    assert rest_login(anon_request, "citizen", PASSWORD, otp=code).status_code == 200
    replay = rest_login(anon_request, "citizen", PASSWORD, otp=code)
    assert replay.status_code == 401 and replay.json()["type"] == "TwoFactorInvalid"


def test_expired_totp_code_is_refused(site, anon_request, request_factory, frozen):
    secret = enrol_totp(request_factory, anon_request, "citizen", frozen)
    frozen.advance(30)
    old_code = pyotp.TOTP(secret).at(frozen.now)
    frozen.advance(90)  # three steps later: outside the ±1 step window
    response = rest_login(anon_request, "citizen", PASSWORD, otp=old_code)
    assert response.status_code == 401 and response.json()["type"] == "TwoFactorInvalid"


def test_staff_cannot_switch_off_two_factor(site, anon_request, request_factory, frozen):
    rest_login(anon_request, "staffer", PASSWORD, send_sms=True)
    token = rest_login(anon_request, "staffer", PASSWORD, otp=last_code(site, STAFF_MOBILE)).json()["token"]
    session = bearer(request_factory, token)
    secret = session.post("/@twofactor", json={"action": "setup"}).json()["secret"]
    session.post("/@twofactor", json={"action": "confirm", "code": pyotp.TOTP(secret).at(frozen.now)})
    frozen.advance(30)
    response = session.post("/@twofactor", json={"action": "disable", "code": pyotp.TOTP(secret).at(frozen.now)})
    assert response.status_code == 403


def test_browser_login_of_staff_asks_for_the_code_before_issuing_the_session(site, web):
    response = form_login(web, "staffer", PASSWORD)
    assert response.status_code == 302 and "@@login-2fa" in response.headers["Location"]
    assert "__ac" not in web.cookies and "__fs_2fa" in web.cookies
    page = web.get("/@@login-2fa")
    assert "身份验证" in page.text and "139****9000" in page.text
    web.post("/@@login-2fa", data={"form.send_sms": "1"})
    wrong = web.post("/@@login-2fa", data={"code": "000000", "form.submit": "1"}, allow_redirects=False)
    assert "验证码错误" in wrong.text and "__ac" not in web.cookies
    done = web.post("/@@login-2fa", data={"code": last_code(site, STAFF_MOBILE), "form.submit": "1"}, allow_redirects=False)
    assert done.status_code == 302
    assert "__ac" in web.cookies
    assert "staffer" in web.get("/@@personal-information").text


def test_the_code_step_cannot_be_reached_without_the_password(site, web):
    page = web.get("/@@login-2fa")
    assert "登录已超时" in page.text or page.url.endswith("/login")
    web.cookies.set("__fs_2fa", "forged.ticket")
    assert "__ac" not in web.post("/@@login-2fa", data={"code": "123456", "form.submit": "1"}).cookies


def test_staff_without_a_factor_enrol_an_authenticator_at_first_login(site, web, frozen):
    response = form_login(web, "editor", PASSWORD)
    assert "@@login-2fa" in response.headers["Location"]
    page = web.get("/@@login-2fa")
    assert "扫描下方二维码" in page.text and "data:image/svg+xml" in page.text
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page.text).group(1)
    done = web.post("/@@login-2fa", data={"code": pyotp.TOTP(secret).at(frozen.now), "form.submit": "1"}, allow_redirects=False)
    assert done.status_code == 302 and "__ac" in web.cookies
    sync()
    assert get_plugin(site).totp["editor"]["confirmed"] is True


def test_basic_auth_of_staff_needs_a_fresh_code_in_a_header(site, anon_request, request_factory):
    rest_login(anon_request, "staffer", PASSWORD, send_sms=True)
    code = last_code(site, STAFF_MOBILE)
    basic = request_factory(basic_auth=("staffer", PASSWORD))
    assert basic.get("/@users/staffer", headers={"X-Finserv-OTP": code}).status_code == 200
    assert basic.get("/@users/staffer", headers={"X-Finserv-OTP": code}).status_code == 401  # used up


def test_public_user_enables_the_authenticator_in_the_browser(site, web, frozen):
    form_login(web, "citizen", PASSWORD)
    assert "@@twofactor-settings" in web.get("/").text  # in the personal menu
    page = web.get("/@@twofactor-settings")
    assert "身份验证器未启用" in page.text
    token = re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)
    setup = web.post("/@@twofactor-settings", data={"form.setup": "1", "_authenticator": token})
    secret = re.search(r"<code>([A-Z2-7]+)</code>", setup.text).group(1)
    wrong = web.post("/@@twofactor-settings", data={"form.confirm": "1", "code": "000000", "_authenticator": token})
    assert "验证码不正确" in wrong.text and secret in wrong.text
    code = pyotp.TOTP(secret).at(frozen.now)
    done = web.post("/@@twofactor-settings", data={"form.confirm": "1", "code": code, "_authenticator": token})
    assert "已启用身份验证器双因素认证" in done.text
    frozen.advance(30)
    off = web.post(
        "/@@twofactor-settings", data={"form.disable": "1", "code": pyotp.TOTP(secret).at(frozen.now), "_authenticator": token}
    )
    assert "已关闭身份验证器双因素认证" in off.text


def test_change_password_form_refuses_a_recent_password(site, web):
    form_login(web, "citizen", PASSWORD)
    page = web.get("/@@change-password")
    token = re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)
    data = {
        "form.widgets.current_password": PASSWORD,
        "form.widgets.new_password": PASSWORD,
        "form.widgets.new_password_ctl": PASSWORD,
        "form.buttons.reset_passwd": "Change Password",
        "_authenticator": token,
    }
    assert "最近 5 次" in web.post("/@@change-password", data=data).text
    data.update({"form.widgets.new_password": "short", "form.widgets.new_password_ctl": "short"})
    assert "密码长度至少为 10 位" in web.post("/@@change-password", data=data).text
    data.update({"form.widgets.new_password": NEW_PASSWORD, "form.widgets.new_password_ctl": NEW_PASSWORD})
    web.post("/@@change-password", data=data)
    sync()
    assert AuthEncoding.pw_validate(site.acl_users.source_users._user_passwords["citizen"], NEW_PASSWORD)


def test_members_can_enter_their_mobile_number_in_their_profile(site, web):
    from plone.app.users.browser.schemaeditor import get_schema

    assert 'name="mobile"' in get_schema(site)
    form_login(web, "citizen", PASSWORD)
    assert "手机号码" in web.get("/@@personal-information").text


def test_public_user_logs_in_through_the_browser_with_password_only(site, web):
    response = form_login(web, "citizen", PASSWORD)
    assert response.status_code == 302 and "__ac" in web.cookies


# --- SMS login for the mini-program -------------------------------------------------------------


def test_sms_login_returns_a_working_jwt(site, anon_request, request_factory):
    response = anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE})
    assert response.status_code == 200 and "验证码已发送" in response.json()["message"]
    code = last_code(site, CITIZEN_MOBILE)
    response = anon_request.post("/@login-sms", json={"mobile": CITIZEN_MOBILE, "code": code})
    assert response.status_code == 200, response.text
    session = bearer(request_factory, response.json()["token"])
    user = session.get("/@users/citizen")
    assert user.status_code == 200 and user.json()["id"] == "citizen"
    assert ("sms.login", "user:citizen") in audit_actions(site)


def test_replayed_sms_login_code_is_refused(site, anon_request):
    anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE})
    code = last_code(site, CITIZEN_MOBILE)
    assert anon_request.post("/@login-sms", json={"mobile": CITIZEN_MOBILE, "code": code}).status_code == 200
    replay = anon_request.post("/@login-sms", json={"mobile": CITIZEN_MOBILE, "code": code})
    assert replay.status_code == 401 and replay.json()["message"] == "验证码错误或已过期，请重新获取。"


def test_expired_sms_login_code_is_refused(site, anon_request, frozen):
    anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE})
    code = last_code(site, CITIZEN_MOBILE)
    frozen.advance(5 * 60 + 1)
    assert anon_request.post("/@login-sms", json={"mobile": CITIZEN_MOBILE, "code": code}).status_code == 401


def test_sms_code_dies_after_five_wrong_attempts(site, anon_request):
    anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE})
    code = last_code(site, CITIZEN_MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert anon_request.post("/@login-sms", json={"mobile": CITIZEN_MOBILE, "code": wrong}).status_code == 401
    assert anon_request.post("/@login-sms", json={"mobile": CITIZEN_MOBILE, "code": code}).status_code == 401


def test_sms_codes_are_rate_limited_per_number(site, anon_request, frozen):
    assert anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE}).status_code == 200
    again = anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE})
    assert again.status_code == 429 and "秒后再试" in again.json()["message"]
    assert int(again.headers["Retry-After"]) <= 60
    for _ in range(9):
        frozen.advance(61)
        assert anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE}).status_code == 200
    frozen.advance(61)
    assert anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE}).status_code == 429  # 10 a day


def test_unknown_and_staff_numbers_get_the_same_answer_and_no_sms(site, anon_request):
    known = anon_request.post("/@login-sms-code", json={"mobile": CITIZEN_MOBILE}).json()
    for number in ("13700137000", STAFF_MOBILE):
        response = anon_request.post("/@login-sms-code", json={"mobile": number})
        assert response.status_code == 200 and response.json() == known
    assert {m["recipient"] for m in outbox(site)} == {CITIZEN_MOBILE}
    response = anon_request.post("/@login-sms", json={"mobile": "13700137000", "code": "123456"})
    assert response.status_code == 401 and response.json()["message"] == "验证码错误或已过期，请重新获取。"


def test_sms_login_refuses_malformed_numbers_in_chinese(site, anon_request):
    response = anon_request.post("/@login-sms-code", json={"mobile": "12345"})
    assert response.status_code == 400 and "手机号码格式不正确" in response.json()["message"]


def test_mobile_numbers_are_indexed_blind(site):
    plugin = get_plugin(site)
    assert all(CITIZEN_MOBILE not in key for key in plugin.mobiles.keys())
    api.user.get(username="citizen").setMemberProperties({"mobile": "+86 138 0013 8001"})
    from finserv.core.login import mobile

    assert mobile.users_for(plugin, "13800138001") == ("citizen",)
    assert mobile.users_for(plugin, CITIZEN_MOBILE) == ()


# --- self-service reset -------------------------------------------------------------------------


def test_locked_user_resets_the_password_with_an_sms_code(site, anon_request):
    lock(anon_request, "citizen")
    assert anon_request.post("/@password-reset-code", json={"mobile": CITIZEN_MOBILE}).status_code == 200
    code = last_code(site, CITIZEN_MOBILE)
    weak = anon_request.post("/@password-reset", json={"mobile": CITIZEN_MOBILE, "code": code, "new_password": "weak"})
    assert weak.status_code == 400 and "密码长度至少为 10 位" in weak.json()["message"]
    reused = anon_request.post("/@password-reset", json={"mobile": CITIZEN_MOBILE, "code": code, "new_password": PASSWORD})
    assert reused.status_code == 400 and "最近 5 次" in reused.json()["message"]
    done = anon_request.post("/@password-reset", json={"mobile": CITIZEN_MOBILE, "code": code, "new_password": NEW_PASSWORD})
    assert done.status_code == 200 and "密码已重置" in done.json()["message"]
    assert rest_login(anon_request, "citizen", NEW_PASSWORD).status_code == 200  # and no longer locked
    assert rest_login(anon_request, "citizen", PASSWORD).status_code == 401
    notice = [m for m in outbox(site) if m["recipient"] == "citizen@example.cn"][-1]
    assert notice["template"] == "email_password_changed" and "登录密码已修改" in notice["subject"]
    replay = anon_request.post("/@password-reset", json={"mobile": CITIZEN_MOBILE, "code": code, "new_password": "Another-pass-99"})
    assert replay.status_code == 400
    assert ("password.reset_requested", "user:citizen") in audit_actions(site)


def test_reset_code_by_email(site, anon_request):
    response = anon_request.post("/@password-reset-code", json={"login": "editor", "channel": "email"})
    assert response.status_code == 200
    mail = [m for m in outbox(site) if m["recipient"] == "editor@example.cn"][-1]
    assert mail["channel"] == "email" and "重置密码" in mail["subject"]
    code = re.search(r"\d{6}", mail["body"]).group(0)
    done = anon_request.post("/@password-reset", json={"login": "editor", "code": code, "new_password": NEW_PASSWORD})
    assert done.status_code == 200


def test_reset_codes_for_unknown_accounts_answer_the_same(site, anon_request):
    known = anon_request.post("/@password-reset-code", json={"login": "citizen", "channel": "sms"}).json()
    unknown = anon_request.post("/@password-reset-code", json={"login": "nobody", "channel": "sms"}).json()
    assert known == unknown
    response = anon_request.post("/@password-reset", json={"login": "nobody", "code": "123456", "new_password": NEW_PASSWORD})
    assert response.status_code == 400 and "验证码错误" in response.json()["message"]


def test_reset_by_code_in_the_browser(site, web):
    page = web.get("/@@password-reset-code")
    token = re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)
    sent = web.post("/@@password-reset-code", data={"mobile": CITIZEN_MOBILE, "form.send": "1", "_authenticator": token})
    assert "验证码已发送" in sent.text
    code = last_code(site, CITIZEN_MOBILE)
    data = {"mobile": CITIZEN_MOBILE, "code": code, "new_password": NEW_PASSWORD, "new_password_ctl": NEW_PASSWORD,
            "form.reset": "1", "_authenticator": token}
    done = web.post("/@@password-reset-code", data=data)
    assert "密码已重置" in done.text
    assert form_login(web, "citizen", NEW_PASSWORD).status_code == 302


# --- sessions ---------------------------------------------------------------------------------


def test_sessions_and_tokens_expire(site, anon_request):
    session_plugin = site.acl_users.session
    assert session_plugin.timeout == 30 * 60 and session_plugin.refresh_interval == 5 * 60
    assert site.acl_users.jwt_auth.token_timeout == 2 * 60 * 60
    token = rest_login(anon_request, "citizen", PASSWORD).json()["token"]
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert 2 * 3600 - 60 < payload["exp"] - time.time() <= 2 * 3600


def _ticket(site, userid, age):
    from plone.session import tktauth

    secret = site.acl_users.session._getSigningSecret(userid)
    ticket = tktauth.createTicket(secret, userid, timestamp=int(time.time()) - age)
    return binascii.b2a_base64(ticket).rstrip().decode()


def test_idle_browser_session_ends_after_thirty_minutes(site, web):
    web.cookies.set("__ac", _ticket(site, "citizen", 31 * 60))
    assert "citizen" not in web.get("/@@personal-information", allow_redirects=False).text


def test_active_browser_session_is_renewed(site, web):
    old = _ticket(site, "citizen", 10 * 60)
    web.cookies.set("__ac", old)
    response = web.get("/@@personal-information")
    assert response.status_code == 200 and "citizen" in response.text
    renewed = response.cookies.get("__ac")
    assert renewed and renewed.strip('"') != old
    # a fresh ticket is left alone, and logging out is not undone by the renewal
    web.cookies.clear()
    web.cookies.set("__ac", _ticket(site, "citizen", 60))
    fresh = web.get("/@@personal-information")
    assert "citizen" in fresh.text and "__ac" not in fresh.cookies
    web.cookies.clear()
    web.cookies.set("__ac", _ticket(site, "citizen", 10 * 60))
    logout = web.get("/logout", allow_redirects=False)
    set_cookies = [v for k, v in logout.raw.headers.items() if k.lower() == "set-cookie" and v.startswith("__ac=")]
    assert set_cookies and all("deleted" in v for v in set_cookies)


def test_install_is_idempotent_and_wraps_the_password_source(portal):
    from finserv.core.login.setup import install_login
    from Products.PluggableAuthService.interfaces.plugins import IAuthenticationPlugin

    install_login(portal)
    install_login(portal)
    ids = [pid for pid, _ in portal.acl_users.plugins.listPlugins(IAuthenticationPlugin)]
    assert ids[0] == "finserv_login" and "source_users" not in ids
    assert portal.portal_memberdata.hasProperty("mobile")
    assert api.portal.get_registry_record("plone.autologin_after_password_reset") is False


def test_login_page_offers_reset_by_sms_or_email_code(functional_portal, request_factory):
    page = request_factory(api=False).get("/login")
    assert page.status_code == 200
    assert "@@password-reset-code" in page.text and "通过短信或邮件验证码重置" in page.text


def test_login_page_is_all_chinese(functional_portal, request_factory):
    page = request_factory(api=False).get("/login")
    assert "获取帮助" in page.text and "Get help" not in page.text
