"""Forms designed through the web with collective.easyform: their JSON Schema for the
mini-program, server-side validation with Chinese messages, and submissions kept as our own
records (sensitive answers encrypted, files as blobs), never in easyform's saved data."""

from finserv.core.forms import form_schema
from finserv.core.forms import get_store
from finserv.core.forms import store_submission
from finserv.core.forms import validate_answers
from finserv.testing import publish
from plone import api
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID

import base64
import pickle
import pytest
import transaction

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

REGISTRATION_MODEL = """<model xmlns="http://namespaces.plone.org/supermodel/schema"
       xmlns:easyform="http://namespaces.plone.org/supermodel/easyform"
       xmlns:form="http://namespaces.plone.org/supermodel/form">
  <schema>
    <field name="name" type="zope.schema.TextLine">
      <title>姓名</title>
      <description>与身份证一致</description>
      <max_length>20</max_length>
    </field>
    <field name="category" type="zope.schema.Choice">
      <title>参会类别</title>
      <values>
        <element key="public">公众</element>
        <element key="press">媒体</element>
      </values>
    </field>
    <field name="arrival" type="zope.schema.Date">
      <title>到达日期</title>
      <required>False</required>
    </field>
    <field name="email" type="plone.schema.email.Email">
      <title>电子邮箱</title>
      <required>False</required>
    </field>
    <field name="id_number" type="finserv.core.forms.fields.IdNumber">
      <title>身份证号</title>
    </field>
    <field name="mobile" type="finserv.core.forms.fields.Mobile">
      <title>手机号码</title>
    </field>
    <fieldset name="attachments" label="附件">
      <field name="scan" type="plone.namedfile.field.NamedBlobFile">
        <title>盖章报名表扫描件</title>
        <required>False</required>
        <accept>
          <element>application/pdf</element>
          <element>image/*</element>
        </accept>
      </field>
    </fieldset>
  </schema>
</model>
"""

GOOD = {
    "name": "张三",
    "category": "press",
    "arrival": "2026-05-20",
    "email": "zhangsan@example.cn",
    "id_number": "11010519491231002X",
    "mobile": "13812345678",
}


@pytest.fixture
def form(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    obj = api.content.create(container=portal, type="EasyForm", id="registration", title="论坛报名表")
    obj.fields_model = REGISTRATION_MODEL
    return obj


def test_form_designed_in_easyform_gives_json_schema(form):
    schema = form_schema(form)
    props = schema["properties"]
    assert schema["x-order"] == ["name", "category", "arrival", "email", "id_number", "mobile", "scan"]
    assert set(schema["required"]) == {"name", "category", "id_number", "mobile"}
    assert props["name"] == {"title": "姓名", "description": "与身份证一致", "type": "string", "maxLength": 20}
    assert props["category"]["enum"] == ["public", "press"] and props["category"]["enumNames"] == ["公众", "媒体"]
    assert props["arrival"]["format"] == "date" and props["email"]["format"] == "email"
    assert props["id_number"]["x-kind"] == "id_number" and props["mobile"]["x-kind"] == "mobile"
    assert props["scan"]["type"] == "string" and props["scan"]["format"] == "binary"
    assert props["scan"]["x-accept"] == ["application/pdf", "image/*"]
    assert [(fs["id"], fs["title"], fs["fields"]) for fs in schema["x-fieldsets"]][1] == ("attachments", "附件", ["scan"])


def test_our_field_types_are_offered_in_easyforms_editor(form):
    allowed = api.portal.get_registry_record("easyform.allowedFields")
    assert {"finserv.core.forms.fields.IdNumber", "finserv.core.forms.fields.Mobile", "finserv.core.forms.fields.Uscc"} <= set(allowed)


def test_valid_answers_are_stored_with_sensitive_values_encrypted_and_masked(form):
    files = {"scan": {"filename": "报名表.pdf", "content_type": "application/pdf", "data": b"%PDF-1.4 scan"}}
    cleaned, errors = validate_answers(form, GOOD, files)
    assert errors == []
    record = store_submission(form, form, cleaned)
    store = get_store(form)
    assert store.count() == 1 and store.get(record.id) is record
    answers = {a["name"]: a["value"] for a in record.answers()}
    assert answers["name"] == "张三" and answers["arrival"] == "2026-05-20"
    assert answers["id_number"] == "110***********002X" and answers["mobile"] == "138****5678"
    assert answers["scan"] == {"filename": "报名表.pdf", "content_type": "application/pdf", "size": 13}
    assert record.plaintext("id_number") == "11010519491231002X"
    pickled = pickle.dumps(record.__getstate__())
    assert b"11010519491231002X" not in pickled and b"13812345678" not in pickled
    assert not getattr(form, "_inputStorage", None)  # nothing in easyform's saved data


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("name", "", "此项为必填项。"),
        ("name", "张" * 21, "不能超过 20 个字符。"),
        ("category", "vip", "请从给定选项中选择。"),
        ("arrival", "2026/05/20", "日期格式无效，应为 YYYY-MM-DD。"),
        ("email", "zhangsan@", "电子邮件地址无效。"),
        ("id_number", "110105194912310021", "身份证号码无效：请检查位数、出生日期和校验位。"),
        ("mobile", "23812345678", "手机号码无效：应为以 1 开头的 11 位数字。"),
    ],
)
def test_each_bad_answer_gets_its_chinese_message_and_nothing_is_stored(form, field, value, message):
    cleaned, errors = validate_answers(form, dict(GOOD, **{field: value}), {})
    assert errors == [{"field": field, "message": message}]
    assert get_store(form) is None


def test_bad_files_are_refused_by_type_and_size(form):
    exe = {"scan": {"filename": "virus.exe", "content_type": "application/x-msdownload", "data": b"MZ"}}
    _cleaned, errors = validate_answers(form, GOOD, exe)
    assert errors == [{"field": "scan", "message": "文件类型不允许：仅接受 application/pdf、image/*。"}]
    api.portal.set_registry_record("easyform.max_filesize", 1024)
    big = {"scan": {"filename": "a.pdf", "content_type": "application/pdf", "data": b"x" * 2048}}
    _cleaned, errors = validate_answers(form, GOOD, big)
    assert errors == [{"field": "scan", "message": "文件过大：不能超过 1 KB。"}]


def test_editing_the_form_later_keeps_stored_labels(form):
    cleaned, _errors = validate_answers(form, GOOD, {})
    record = store_submission(form, form, cleaned)
    form.fields_model = REGISTRATION_MODEL.replace("<title>姓名</title>", "<title>联系人</title>").replace(
        '<field name="mobile"', '<field name="mobile_removed"'
    )
    assert form_schema(form)["properties"]["name"]["title"] == "联系人"
    answers = {a["name"]: a for a in get_store(form).get(record.id).answers()}
    assert answers["name"]["title"] == "姓名" and answers["mobile"]["value"] == "138****5678"


def test_fifty_submissions_share_a_length_counter_not_a_conflicting_int(form):
    from BTrees.Length import Length

    cleaned, _errors = validate_answers(form, GOOD, {})
    ids = {store_submission(form, form, cleaned).id for _i in range(50)}
    store = get_store(form)
    assert len(ids) == 50 and store.count() == 50 and len(store.list(start=40, size=20)) == 10
    assert isinstance(store._count, Length)
    # Length resolves concurrent increments instead of raising ConflictError
    assert store._count._p_resolveConflict(10, 12, 11) == 13


@pytest.fixture
def published_form(functional_portal):
    setRoles(functional_portal, TEST_USER_ID, ["Manager"])
    obj = api.content.create(container=functional_portal, type="EasyForm", id="registration", title="论坛报名表")
    obj.fields_model = REGISTRATION_MODEL
    publish(obj)
    transaction.commit()
    return obj


def test_anonymous_gets_schema_and_submits_with_a_file(published_form, anon_request):
    response = anon_request.get("/registration/@form-schema")
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["id_number"]["x-kind"] == "id_number"
    files = {"scan": {"filename": "scan.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}}
    response = anon_request.post("/registration/@form-submit", json={"answers": GOOD, "files": files})
    assert response.status_code == 201, response.text
    transaction.begin()
    record = get_store(published_form).get(response.json()["id"])
    assert record.values["scan"].data == PNG and record.creator is None


def test_anonymous_bad_submission_gets_400_in_chinese_and_nothing_is_saved(published_form, anon_request):
    response = anon_request.post("/registration/@form-submit", json={"answers": dict(GOOD, mobile="123", name="")})
    assert response.status_code == 400
    body = response.json()
    assert {(e["field"], e["message"]) for e in body["errors"]} == {
        ("name", "此项为必填项。"),
        ("mobile", "手机号码无效：应为以 1 开头的 11 位数字。"),
    }
    assert "此项为必填项。" in body["message"]
    transaction.begin()
    assert get_store(published_form) is None


def test_multipart_submission_with_an_uploaded_file(published_form, anon_request):
    import json

    response = anon_request.post(
        "/registration/@form-submit",
        data={"answers": json.dumps(GOOD)},
        files={"scan": ("报名表.pdf", b"%PDF-1.4 x", "application/pdf")},
    )
    assert response.status_code == 201, response.text
    transaction.begin()
    record = get_store(published_form).get(response.json()["id"])
    assert record.values["scan"].filename == "报名表.pdf"


def test_a_field_added_with_our_factory_round_trips_through_easyforms_model(form):
    from collective.easyform.api import get_schema
    from collective.easyform.api import set_fields
    from plone.schemaeditor.interfaces import IFieldFactory
    from plone.schemaeditor.interfaces import IEditableSchema
    from zope.component import getUtility
    from zope.schema.vocabulary import getVocabularyRegistry

    terms = getVocabularyRegistry().get(form, "easyform.SchemaEditorFields")
    assert "finserv.core.forms.fields.Uscc" in [t.value for t in terms]
    schema = get_schema(form)
    field = getUtility(IFieldFactory, name="finserv.core.forms.fields.Uscc")(title="统一社会信用代码", __name__="uscc")
    IEditableSchema(schema).addField(field)
    set_fields(form, schema)
    assert 'type="finserv.core.forms.fields.Uscc"' in form.fields_model
    assert form_schema(form)["properties"]["uscc"]["x-kind"] == "uscc"
    _cleaned, errors = validate_answers(form, dict(GOOD, uscc="91310000MA1FL8XX3X"), {})
    assert errors == [{"field": "uscc", "message": "统一社会信用代码无效：请检查 18 位代码及校验位。"}]
