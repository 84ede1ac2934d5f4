"""Audit trail (GB/T 39786-2021 level 3, 等保三级): what an auditor needs to see proven.

* security-relevant actions are recorded — who, when, from which address, what;
* the records form an SM3 hash chain whose head is SM2-signed, and verification finds and
  locates a record that was altered, removed or inserted, and a forged checkpoint;
* a record exists only if the audited action's transaction committed;
* only auditors (and administrators) read and export the trail, and nobody can change it
  through the web.

Every test gets its own key directory and checkpoints file (tmp_path).
"""

from __future__ import annotations

import base64
import io
import json

import pytest
import transaction
from openpyxl import load_workbook
from plone import api
from plone.app.testing import setRoles
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import TEST_USER_ID
from zope.component.hooks import getSite
from zope.component.hooks import setSite

from finserv.core import crypto
from finserv.core.audit import PERMISSION
from finserv.core.audit import checkpoint
from finserv.core.audit import get_store
from finserv.core.audit import record
from finserv.core.audit import record_hash
from finserv.core.audit import verify_chain
from finserv.core.audit.store import checkpoint_payload
from finserv.core.audit.store import key_fingerprint

PASSWORD = "Secret-pass-42!"


@pytest.fixture(autouse=True)
def audit_keys(fresh_keys):
    return fresh_keys


def last(store, action=None):
    """The newest record (of *action*, if given)."""
    for seq in range(store.last_seq, 0, -1):
        rec = store.get(seq)
        if action is None or rec["action"] == action:
            return rec
    return None


def add_records(n, prefix="test.action"):
    for i in range(n):
        record(prefix, target=f"/plone/item-{i}", details={"i": i})


def sign_every(store, n):
    """Sign the head every *n* records from now on."""
    store.checkpoint_interval = n
    store.last_checkpoint_seq = store.last_seq


def rehash_from(store, seq):
    """What an attacker with write access to the ZODB would do: re-hash the chain from *seq*."""
    prev = store._records[seq - 1]["hash"] if seq > 1 else "0" * 64
    for key in range(seq, store.last_seq + 1):
        rec = dict(store._records[key])
        rec["prev_hash"] = prev
        rec["hash"] = record_hash(rec)
        store._records[key] = rec
        prev = rec["hash"]
    store.head_hash = prev


# --- records are appended for the audited actions --------------------------------------------


def test_workflow_transition_is_recorded_with_actor_path_transition_state_and_comment(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    doc = api.content.create(container=portal, type="Document", id="notice-1", title="通知")
    api.content.transition(obj=doc, transition="publish", comment="同意发布")
    rec = last(get_store(portal), "workflow.transition")
    assert rec["actor"] == TEST_USER_ID
    assert rec["target"] == "/plone/notice-1"
    assert rec["details"]["transition"] == "publish"
    assert rec["details"]["from_state"] == "private"
    assert rec["details"]["new_state"] == "published"
    assert rec["details"]["comment"] == "同意发布"
    assert rec["timestamp"].endswith("Z") and len(rec["timestamp_local"]) == 19


def test_global_role_change_is_recorded_with_roles_added(portal):
    api.user.create(email="clerk@example.org", username="clerk", password=PASSWORD)
    api.user.grant_roles(username="clerk", roles=["Site Administrator"])
    rec = last(get_store(portal), "roles.global_changed")
    assert rec["target"] == "principal:clerk"
    assert rec["details"]["added"] == ["Site Administrator"]
    api.user.revoke_roles(username="clerk", roles=["Site Administrator"])
    assert last(get_store(portal), "roles.global_changed")["details"]["removed"] == ["Site Administrator"]


def test_user_creation_and_group_membership_changes_are_recorded(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    api.user.create(email="staff@example.org", username="staff1", password=PASSWORD)
    store = get_store(portal)
    assert last(store, "user.created")["target"] == "user:staff1"
    api.group.add_user(groupname="office-staff", username="staff1")
    added = last(store, "group.member_added")
    assert added["details"] == {"group": "office-staff", "principal": "staff1"}
    api.group.remove_user(groupname="office-staff", username="staff1")
    assert last(store, "group.member_removed")["details"]["principal"] == "staff1"
    api.user.delete(username="staff1")
    assert last(store, "user.deleted")["target"] == "user:staff1"


def test_registry_change_is_recorded_with_old_and_new_value_and_secrets_masked(portal):
    api.portal.set_registry_record("plone.site_title", "上海金融综合服务平台（测试）")
    rec = last(get_store(portal), "config.registry_changed")
    assert rec["target"] == "registry:plone.site_title"
    assert rec["details"]["new"] == "上海金融综合服务平台（测试）"
    api.portal.set_registry_record("plone.smtp_pass", "hunter2")
    rec = last(get_store(portal), "config.registry_changed")
    assert rec["details"]["record"] == "plone.smtp_pass"
    assert rec["details"]["new"] == "******"
    assert "hunter2" not in json.dumps(rec, ensure_ascii=False)


def test_login_and_logout_through_the_login_form_are_recorded_with_the_client_address(functional_portal, request_factory):
    make_user(functional_portal, "member9")
    transaction.commit()
    browser = request_factory(api=False)
    response = browser.post(
        "login",
        data={"__ac_name": "member9", "__ac_password": PASSWORD, "buttons.login": "登录"},
        headers={"X-Forwarded-For": "198.51.100.7"},
        allow_redirects=False,
    )
    assert response.status_code in (200, 302)
    browser.get("logout", allow_redirects=False)
    transaction.begin()
    store = get_store(functional_portal)
    login = last(store, "login.success")
    assert (login["actor"], login["target"], login["address"]) == ("member9", "user:member9", "198.51.100.7")
    assert login["peer"] == "127.0.0.1"
    assert login["details"]["login"] == "member9"
    logout = last(store, "logout")
    assert logout["actor"] == "member9" and logout["address"] == "127.0.0.1"
    assert logout["sequence"] > login["sequence"]


def test_local_role_change_through_sharing_is_recorded(functional_portal, manager_request):
    setRoles(functional_portal, TEST_USER_ID, ["Manager"])
    api.content.create(container=functional_portal, type="Folder", id="cases", title="案件")
    transaction.commit()
    response = manager_request.post(
        "cases/@sharing", json={"entries": [{"id": "office-staff", "type": "group", "roles": {"Reader": True}}]}
    )
    assert response.status_code == 204, response.text
    transaction.begin()
    rec = last(get_store(functional_portal), "roles.local_changed")
    assert rec["target"] == "/plone/cases"
    assert rec["details"]["local_roles"]["office-staff"] == ["Reader"]
    assert rec["actor"] == "admin"


def test_record_api_takes_actor_from_the_user_and_address_from_x_forwarded_for(portal, http_request):
    http_request.environ["REMOTE_ADDR"] = "10.0.0.5"
    http_request.other["REMOTE_ADDR"] = "10.0.0.5"
    http_request.environ["HTTP_X_FORWARDED_FOR"] = "203.0.113.9, 10.0.0.1"
    http_request.other["HTTP_X_FORWARDED_FOR"] = "203.0.113.9, 10.0.0.1"
    record("field.reveal", target="/plone/person-1", details={"field": "id_number"}, request=http_request)
    rec = last(get_store(portal))
    assert (rec["actor"], rec["address"], rec["peer"]) == (TEST_USER_ID, "203.0.113.9", "10.0.0.5")
    assert rec["action"] == "field.reveal" and rec["details"] == {"field": "id_number"}
    record("login.failure", actor="someone", details={"login": "someone"}, request=http_request)
    assert last(get_store(portal))["actor"] == "someone"


def test_anonymous_actor_is_recorded_as_anonymous_and_details_are_stored_as_json(portal):
    import datetime

    from plone.app.testing import logout

    logout()
    record("login.failure", target="user:nobody", details={"when": datetime.date(2025, 1, 2), "ids": {3}})
    rec = last(get_store(portal))
    assert rec["actor"] == "anonymous"
    assert rec["details"] == {"when": "2025-01-02", "ids": [3]}
    assert verify_chain(get_store(portal)).ok


def test_install_step_is_idempotent(portal):
    from finserv.core.audit.setup import install_audit

    store = get_store(portal)
    chain_id, count = store.chain_id, store.last_seq
    install_audit(portal)
    install_audit(portal)
    assert get_store(portal) is store and store.chain_id == chain_id and store.last_seq == count
    assert store.get(1)["action"] == "audit.started" and store.get(1)["details"] == {"chain_id": chain_id}
    assert portal.get_local_roles_for_userid("office-staff") == ("Auditor",)


def test_record_without_an_active_site_does_nothing_but_warn(portal, caplog):
    before = get_store(portal).last_seq
    site = getSite()
    setSite(None)
    try:
        record("login.failure", details={"login": "x"})
    finally:
        setSite(site)
    assert get_store(portal).last_seq == before
    assert "no Plone site active" in caplog.text


# --- the chain verifies, and tampering is detected and located -------------------------------


def test_untampered_chain_verifies(portal):
    add_records(5)
    checkpoint(get_store(portal), portal=portal)
    result = verify_chain(get_store(portal))
    assert result.ok, result.report()
    assert result.records == get_store(portal).last_seq
    assert result.checkpoints == 1
    assert "校验通过" in result.report() and "OK" in result.report()


def test_record_whose_details_were_altered_in_the_zodb_is_detected_and_its_sequence_reported(portal):
    add_records(6)
    store = get_store(portal)
    target_seq = store.last_seq - 3
    forged = dict(store._records[target_seq])
    forged["details"] = {"i": 999}
    store._records[target_seq] = forged
    result = verify_chain(store)
    assert not result.ok
    assert (result.first.sequence, result.first.kind) == (target_seq, "altered")
    assert f"#{target_seq}" in result.report() and "篡改" in result.report()


def test_removed_record_is_detected_and_located(portal):
    add_records(6)
    store = get_store(portal)
    target_seq = store.last_seq - 2
    del store._records[target_seq]
    result = verify_chain(store)
    assert (result.first.sequence, result.first.kind) == (target_seq, "removed")


def test_removed_last_record_is_detected(portal):
    add_records(3)
    store = get_store(portal)
    del store._records[store.last_seq]
    result = verify_chain(store)
    assert (result.first.sequence, result.first.kind) == (store.last_seq, "removed")


def test_removed_record_with_later_records_renumbered_is_detected(portal):
    add_records(6)
    store = get_store(portal)
    target_seq = store.last_seq - 3
    for key in range(target_seq, store.last_seq):
        rec = dict(store._records[key + 1])
        rec["sequence"] = key
        rec["hash"] = record_hash(rec)
        store._records[key] = rec
    del store._records[store.last_seq]
    store.last_seq -= 1
    store.head_hash = store._records[store.last_seq]["hash"]
    result = verify_chain(store)
    assert (result.first.sequence, result.first.kind) == (target_seq, "removed")


def test_inserted_record_is_detected_and_located(portal):
    add_records(6)
    store = get_store(portal)
    at = store.last_seq - 2
    # shift the records from `at` one place up and slip a well-formed forged record in
    for key in range(store.last_seq, at - 1, -1):
        store._records[key + 1] = store._records[key]
    forged = {
        "sequence": at,
        "timestamp": store._records[at - 1]["timestamp"],
        "timestamp_local": store._records[at - 1]["timestamp_local"],
        "actor": "admin",
        "address": "127.0.0.1",
        "peer": "",
        "action": "login.success",
        "target": "user:admin",
        "details": {},
        "prev_hash": store._records[at - 1]["hash"],
    }
    forged["hash"] = record_hash(forged)
    store._records[at] = forged
    store.last_seq += 1
    result = verify_chain(store)
    assert (result.first.sequence, result.first.kind) == (at, "inserted")


def test_chain_rewritten_and_rehashed_in_the_zodb_is_caught_by_its_signed_checkpoint(portal):
    add_records(4)
    store = get_store(portal)
    checkpoint(store, portal=portal)
    add_records(2)
    target_seq = store.last_seq - 4
    forged = dict(store._records[target_seq])
    forged["actor"] = "somebody-else"
    store._records[target_seq] = forged
    rehash_from(store, target_seq)
    result = verify_chain(store)
    assert not result.ok
    assert result.first.kind == "rewritten"
    assert result.first.sequence <= target_seq


def test_tampered_checkpoint_signature_is_detected(portal):
    add_records(3)
    store = get_store(portal)
    cp = checkpoint(store, portal=portal)
    stored = dict(store._checkpoints[cp["sequence"]])
    signature = bytearray(base64.b64decode(stored["signature"]))
    signature[-1] ^= 0x01
    stored["signature"] = base64.b64encode(bytes(signature)).decode()
    store._checkpoints[cp["sequence"]] = stored
    result = verify_chain(store)
    assert (result.first.sequence, result.first.kind) == (cp["sequence"], "bad_signature")


def test_checkpoint_re_signed_with_another_key_is_rejected(portal):
    add_records(3)
    store = get_store(portal)
    cp = checkpoint(store, portal=portal)
    attacker = crypto.SoftwareSM2Signer.generate()
    forged = dict(store._checkpoints[cp["sequence"]])
    forged["public_key"] = attacker.public_key_pem().decode()
    forged["key_fingerprint"] = key_fingerprint(attacker.public_key_pem())
    forged["signature"] = base64.b64encode(attacker.sign(checkpoint_payload(forged))).decode()
    store._checkpoints[cp["sequence"]] = forged
    result = verify_chain(store)
    assert (result.first.sequence, result.first.kind) == (cp["sequence"], "untrusted_key")


def test_head_is_signed_every_n_records(portal):
    store = get_store(portal)
    sign_every(store, 5)
    add_records(4)
    assert not store.checkpoints()
    add_records(1)
    cps = store.checkpoints()
    assert cps and cps[-1]["sequence"] == store.last_seq
    signer = crypto.get_signer("system")
    assert signer.verify(checkpoint_payload(cps[-1]), base64.b64decode(cps[-1]["signature"]))
    assert verify_chain(store).ok


def test_verify_command_prints_chinese_and_english_and_fails_on_tampering(app, portal):
    from finserv.core.verify_audit import main

    add_records(3)
    out = io.StringIO()
    assert main(app, site_id=portal.getId(), out=out) == 0
    assert "审计日志校验通过" in out.getvalue() and "Audit trail OK" in out.getvalue()
    # main() aborted the transaction it read in; record again and tamper
    setSite(portal)
    add_records(3)
    store = get_store(portal)
    tampered = store.last_seq - 1
    forged = dict(store._records[tampered])
    forged["target"] = "/plone/somewhere-else"
    store._records[tampered] = forged
    out = io.StringIO()
    assert main(app, site_id=portal.getId(), out=out) == 1
    assert f"第 {tampered} 条" in out.getvalue()
    assert f"FAILED at record #{tampered}: record altered" in out.getvalue()


# --- transactions ------------------------------------------------------------------------------


def test_aborted_transaction_leaves_no_record_and_no_checkpoint_line(functional_portal, audit_keys):
    store = get_store(functional_portal)
    sign_every(store, 2)
    transaction.commit()
    before = store.last_seq
    record("personal_data.export", target="/plone/applications", details={"rows": 10})
    record("personal_data.export", target="/plone/applications", details={"rows": 10})
    assert store.last_seq == before + 2 and store.checkpoints()
    transaction.abort()
    assert get_store(functional_portal).last_seq == before
    assert not (audit_keys / "audit-checkpoints.jsonl").exists()
    assert verify_chain(get_store(functional_portal)).ok


def test_committed_checkpoint_is_copied_to_the_file_outside_the_zodb(functional_portal, audit_keys):
    store = get_store(functional_portal)
    sign_every(store, 3)
    transaction.commit()
    add_records(3)
    transaction.commit()
    lines = [json.loads(x) for x in (audit_keys / "audit-checkpoints.jsonl").read_text().splitlines()]
    assert lines[-1]["chain_id"] == store.chain_id
    assert lines[-1]["sequence"] == store.last_seq
    assert lines[-1]["site"] == "/plone"
    result = verify_chain(store)
    assert result.ok and result.file_checkpoints == 1, result.report()
    # rewrite the chain AND its checkpoints in the ZODB: the file still gives it away
    target_seq = store.last_seq - 1
    forged = dict(store._records[target_seq])
    forged["details"] = {"i": "rewritten"}
    store._records[target_seq] = forged
    rehash_from(store, target_seq)
    for key in list(store._checkpoints.keys()):
        del store._checkpoints[key]
    result = verify_chain(store)
    assert not result.ok
    assert {p.kind for p in result.problems} >= {"rewritten"}
    assert result.first.sequence <= target_seq
    transaction.abort()


# --- who may read it, and that nobody can change it through the web -----------------------------


def make_user(portal, username, roles=("Member",), groups=()):
    with api.env.adopt_user(username=SITE_OWNER_NAME):
        api.user.create(email=f"{username}@example.org", username=username, password=PASSWORD, roles=list(roles))
        for group in groups:
            api.group.add_user(groupname=group, username=username)


def test_only_administrators_auditors_and_office_staff_have_the_view_permission(portal):
    make_user(portal, "member1")
    make_user(portal, "auditor1", roles=("Member", "Auditor"))
    make_user(portal, "staff2", groups=("office-staff",))
    allowed = lambda name: api.user.has_permission(PERMISSION, username=name, obj=portal)  # noqa: E731
    assert not allowed("member1")
    assert allowed("auditor1")
    assert allowed("staff2")
    roles = {r["name"] for r in portal.rolesOfPermission(PERMISSION) if r["selected"]}
    assert {"Manager", "Site Administrator", "Auditor"} <= roles
    assert "Anonymous" not in roles and "Authenticated" not in roles and "Member" not in roles


@pytest.fixture
def people(functional_portal):
    make_user(functional_portal, "member1")
    make_user(functional_portal, "auditor1", roles=("Member", "Auditor"))
    transaction.commit()


def test_anonymous_and_plain_members_are_refused_the_audit_log(functional_portal, people, request_factory):
    for session in (request_factory(), request_factory(basic_auth=("member1", PASSWORD))):
        assert session.get("@audit-log").status_code == 401
        page = request_factory(api=False, basic_auth=session.auth) if session.auth else request_factory(api=False)
        page.headers["Accept"] = "text/html"
        for view in ("@@audit-log", "@@audit-log-export"):
            response = page.get(view, allow_redirects=False)
            assert response.status_code in (302, 401, 403), (view, response.status_code)
            if response.status_code == 302:
                assert "login" in response.headers["Location"]


def test_auditor_reads_the_audit_log_page_and_rest_endpoint(functional_portal, people, request_factory):
    api_session = request_factory(basic_auth=("auditor1", PASSWORD))
    response = api_session.get("@audit-log", params={"action": "user."})
    assert response.status_code == 200
    data = response.json()
    assert data["items_total"] >= 2
    assert all(item["action"].startswith("user.") for item in data["items"])
    assert data["items"][0]["sequence"] > data["items"][1]["sequence"]  # newest first
    assert data["items"][0]["target"] == "user:auditor1" and data["items"][0]["action_title"] == "创建用户"
    response = api_session.get("@audit-log", params={"action": "user.", "b_size": 1})
    assert len(response.json()["items"]) == 1 and "next" in response.json()["batching"]
    assert api_session.get("@audit-log", params={"date_from": "2025-13-45"}).status_code == 400
    page = request_factory(api=False, basic_auth=("auditor1", PASSWORD))
    response = page.get("@@audit-log", params={"actor": "admin", "target": "auditor1"})
    assert response.status_code == 200
    assert "审计日志" in response.text and "user:auditor1" in response.text and "user:member1" not in response.text
    response = page.get("@@audit-log", params={"verify": "1"})
    assert response.status_code == 200 and "哈希链校验通过" in response.text
    transaction.begin()
    assert last(get_store(functional_portal))["action"] == "audit.verify"


def test_excel_export_opens_has_the_records_and_neutralises_formulas(functional_portal, people, request_factory):
    record("personal_data.export", target='=HYPERLINK("http://evil.example","点我")', details={"rows": 1})
    transaction.commit()
    page = request_factory(api=False, basic_auth=("auditor1", PASSWORD))
    response = page.get("@@audit-log-export", params={"action": "personal_data."})
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "序号"
    assert len(rows) == 2
    target_cell = sheet.cell(row=2, column=9)
    assert target_cell.value == '\'=HYPERLINK("http://evil.example","点我")'
    assert target_cell.data_type == "s"
    transaction.begin()
    export = last(get_store(functional_portal), "audit.export")
    assert export["actor"] == "auditor1"
    assert export["details"] == {"filters": {"action": "personal_data."}, "rows": 1}


def test_there_is_no_write_path_to_the_audit_log(functional_portal, people, request_factory, manager_request):
    before = get_store(functional_portal).last_seq
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        response = manager_request.request(method, "@audit-log", json={"sequence": 1, "actor": "nobody"})
        assert not 200 <= response.status_code < 300, (method, response.status_code)
    page = request_factory(role="Manager", api=False)
    for path in ("@@audit-log-edit", "__annotations__", "@@audit-log/store", "@@audit-log-export/store"):
        response = page.get(path, allow_redirects=False)
        assert not 200 <= response.status_code < 300, (path, response.status_code)
    # the one POST the page takes (sign a checkpoint) needs a CSRF token and appends, never edits
    response = page.post("@@audit-log", data={"form.button.checkpoint": "1"}, allow_redirects=False)
    assert response.status_code == 403
    transaction.begin()
    store = get_store(functional_portal)
    assert store.last_seq == before
    assert verify_chain(store).ok
