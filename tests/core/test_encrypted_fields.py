"""Encrypted personal fields: one test per requirement of the security foundation."""

from finserv.core import crypto
from finserv.core import sensitive
from finserv.core.codes import id_check_char
from finserv.core.codes import uscc_check_char
from plone import api
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from ZODB.serialize import ObjectWriter

import pytest
import transaction

ID = "11010519491231002X"
MOBILE = "13812345678"


def enable_behavior(portal):
    """Give Documents the sensitive-contact behavior (events invalidate the schema cache)."""
    fti = portal.portal_types["Document"]
    fti.manage_changeProperties(behaviors=tuple(fti.behaviors) + ("finserv.sensitive_contact",))


def with_check(first17, check=id_check_char):
    return first17 + check(first17)


@pytest.fixture
def person_type(portal):
    enable_behavior(portal)
    setRoles(portal, TEST_USER_ID, ["Manager"])
    return portal


def make_person(portal, **values):
    doc = api.content.create(container=portal, type="Document", id="person", title="张三")
    for name, value in values.items():
        dm = sensitive.EncryptedFieldDataManager(doc, sensitive.sensitive_behavior_field(name))
        dm.set(value)
    doc.reindexObject()
    return doc


def test_only_ciphertext_is_stored_in_the_zodb(person_type):
    doc = make_person(person_type, id_number=ID, mobile=MOBILE)
    pickle = ObjectWriter(doc.aq_base).serialize(doc.aq_base)
    assert ID.encode() not in pickle and MOBILE.encode() not in pickle
    assert b"13812345678" not in pickle
    assert isinstance(doc.id_number, sensitive.EncryptedValue)
    assert crypto.token_key_version(doc.id_number.token) >= 1


def test_users_without_permission_see_masked_values(person_type):
    doc = make_person(person_type, id_number=ID, mobile=MOBILE, bank_account="6222021234567890123")
    assert doc.id_number.masked == "110***********002X"
    assert doc.mobile.masked == "138****5678"
    assert doc.bank_account.masked == "6222***********0123"
    dm = sensitive.EncryptedFieldDataManager(doc, sensitive.sensitive_behavior_field("mobile"))
    assert dm.get() == "138****5678"


def test_reveal_needs_permission_and_is_audited(person_type):
    from AccessControl import Unauthorized
    from finserv.core.audit import get_store

    doc = make_person(person_type, id_number=ID)
    assert sensitive.reveal(doc, "id_number", reason="核验") == ID
    store = get_store()
    last = store.get(store.last_seq)
    assert last["action"] == "field.reveal"
    assert last["details"]["field"] == "id_number"
    api.user.create(email="m@example.cn", username="member", password="Secret-pass-2024!")
    with api.env.adopt_user(username="member"):
        with pytest.raises(Unauthorized):
            sensitive.reveal(doc, "id_number")


def test_exact_match_search_through_the_blind_index(person_type):
    make_person(person_type, id_number=ID)
    assert [b.getId for b in sensitive.find("id_number", ID)] == ["person"]
    assert [b.getId for b in sensitive.find("id_number", ID.lower())] == ["person"]
    assert list(sensitive.find("id_number", with_check("11010519491231003"))) == []
    # the index holds keyed hashes, never the value
    index = person_type.portal_catalog._catalog.indexes["sensitive_blind_index"]
    assert not any(ID in str(term) for term in index.uniqueValues())


@pytest.mark.parametrize(
    "kind, value",
    [
        ("id_number", with_check("81000019900101123")),  # Hong Kong residence permit
        ("id_number", with_check("83000019851231456")),  # Taiwan residence permit
        ("id_number", with_check("93310019800101001")),  # 2023 foreigners' permanent residence ID
        ("id_number", with_check("31010819800101001")),  # 闸北区, merged away in 2015
        ("uscc", with_check("Y1310000MA1K3ABC1", uscc_check_char)),  # 其他 registration authority
        ("uscc", with_check("N1310115MA1K3ABC1", uscc_check_char)),  # 农业农村 collective
        ("uscc", with_check("91310115MA1K3ABC1", uscc_check_char)),
    ],
)
def test_real_world_codes_pass_validation(kind, value):
    sensitive.EncryptedTextLine(kind=kind).validate(value)


@pytest.mark.parametrize(
    "kind, value",
    [
        ("id_number", "110105194912310021"),  # wrong check character
        ("id_number", with_check("11010519491331002")),  # month 13
        ("mobile", "1381234567"),
        ("uscc", "91310115MA1K3ABC1Z"),
        ("bank_account", "6222-abc"),
    ],
)
def test_invalid_values_are_refused_with_a_chinese_message(kind, value):
    from zope.i18n import translate

    with pytest.raises(sensitive.InvalidSensitiveValue) as info:
        sensitive.EncryptedTextLine(kind=kind).validate(value)
    assert "无效" in translate(info.value.doc(), target_language="zh_CN")


def test_masked_value_sent_back_changes_nothing(person_type):
    doc = make_person(person_type, id_number=ID)
    token = doc.id_number.token
    dm = sensitive.EncryptedFieldDataManager(doc, sensitive.sensitive_behavior_field("id_number"))
    dm.set(dm.get())
    assert doc.id_number.token == token


def test_truncated_ciphertext_gives_a_clear_error(person_type):
    doc = make_person(person_type, id_number=ID)
    doc.id_number.token = doc.id_number.token[:10]
    with pytest.raises(crypto.CryptoError) as info:
        sensitive.reveal(doc, "id_number")
    assert "密文" in str(info.value)


def test_ciphertext_moved_to_another_record_does_not_decrypt(person_type):
    doc = make_person(person_type, id_number=ID)
    other = api.content.create(container=person_type, type="Document", id="other", title="李四")
    other.id_number = doc.id_number
    with pytest.raises(crypto.CryptoError):
        sensitive.reveal(other, "id_number")


def test_key_rotation_reencrypts_stored_values(person_type, tmp_path, monkeypatch):
    doc = make_person(person_type, id_number=ID)
    before = crypto.token_key_version(doc.id_number.token)
    crypto.rotate_sm4_key()
    assert sensitive.reencrypt_object(doc) == 1
    assert crypto.token_key_version(doc.id_number.token) == before + 1
    assert sensitive.reveal(doc, "id_number") == ID


def test_a_copy_keeps_its_values_readable(person_type):
    doc = make_person(person_type, id_number=ID)
    copy = api.content.copy(source=doc, target=person_type, id="person-copy")
    assert sensitive.reveal(copy, "id_number") == ID


@pytest.fixture
def rest_site(functional_portal):
    portal = functional_portal
    enable_behavior(portal)
    setRoles(portal, TEST_USER_ID, ["Manager"])
    api.user.create(email="e@example.cn", username="editor", password="Secret-pass-2024!", roles=["Editor", "Member"])
    transaction.commit()
    return portal


def test_rest_stores_encrypted_shows_masked_and_reveals_on_request(rest_site, manager_request, request_factory):
    created = manager_request.post("/", json={"@type": "Document", "id": "zs", "title": "张三", "id_number": ID, "mobile": MOBILE})
    assert created.status_code == 201, created.text
    assert created.json()["id_number"] == "110***********002X"
    editor = request_factory(basic_auth=("editor", "Secret-pass-2024!"))
    assert editor.get("/zs").json()["mobile"] == "138****5678"
    assert editor.post("/zs/@reveal", json={"field": "mobile"}).status_code == 403
    revealed = manager_request.post("/zs/@reveal", json={"field": "mobile", "reason": "电话回访"})
    assert revealed.json() == {"field": "mobile", "value": MOBILE}
    assert manager_request.post("/zs/@reveal", json={"field": "title"}).status_code == 400


def test_rest_refuses_an_invalid_id_number_and_saves_nothing(rest_site, manager_request):
    response = manager_request.post("/", json={"@type": "Document", "id": "bad", "title": "王五", "id_number": "110105194912310021"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("身份证号码无效")
    transaction.begin()
    assert "bad" not in rest_site.objectIds()


def test_exports_mask_values_for_users_who_may_not_see_them(person_type):
    from finserv.core.audit import get_store

    doc = make_person(person_type, id_number=ID, mobile=MOBILE)
    assert list(sensitive.export_values([doc], ["id_number", "mobile"], "人才名册")) == [[ID, MOBILE]]
    store = get_store()
    assert store.get(store.last_seq)["action"] == "personal_data.export"
    api.user.create(email="m2@example.cn", username="viewer", password="Secret-pass-2024!")
    with api.env.adopt_user(username="viewer"):
        assert list(sensitive.export_values([doc], ["id_number", "mobile"])) == [["110***********002X", "138****5678"]]


def test_reencrypt_all_content_after_rotation(person_type):
    doc = make_person(person_type, id_number=ID, mobile=MOBILE)
    crypto.rotate_sm4_key()
    assert sensitive.reencrypt_all_content(person_type) == 2
    current = crypto.get_keyring().current_sm4_version
    assert crypto.token_key_version(doc.mobile.token) == current
    assert sensitive.reveal(doc, "mobile") == MOBILE


def test_plone_api_create_and_plain_assignment_store_ciphertext_too(person_type):
    from finserv.core.sensitive_behavior import ISensitiveContact

    doc = api.content.create(container=person_type, type="Document", id="li", title="李四", id_number=ID, mobile=MOBILE)
    assert isinstance(doc.id_number, sensitive.EncryptedValue)
    assert ID.encode() not in ObjectWriter(doc.aq_base).serialize(doc.aq_base)
    assert sensitive.reveal(doc, "id_number") == ID
    ISensitiveContact(doc).mobile = "13900001111"
    assert doc.mobile.masked == "139****1111"
    assert sensitive.reveal(doc, "mobile") == "13900001111"
    assert [b.getId for b in sensitive.find("mobile", "13900001111")] == ["li"]
