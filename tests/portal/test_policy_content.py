"""Policies: what editors enter, what is refused, and the editorial workflow."""

from finserv.testing import make_policy
from finserv.testing import publish
from finserv.portal.attachments import PolicyAttachmentValidator
from plone import api
from plone.api.exc import InvalidParameterError
from plone.app.testing import logout
from plone.namedfile.file import NamedBlobFile
from zope.i18n import translate
from zope.interface import Invalid

import datetime
import pytest


def test_policy_keeps_what_readers_search_by(manager):
    policy = make_policy(manager["policies"], districts=["310115"], industries=["J"], enterprise_sizes=["small"])
    assert policy.portal_type == "Policy"
    assert policy.doc_number == "沪金规〔2024〕3号"
    assert api.content.get_state(policy) == "draft"


def test_document_number_brackets_are_normalised(manager):
    policy = make_policy(manager["policies"], doc_number="沪金规[2024]7号")
    assert policy.doc_number == "沪金规〔2024〕7号"


@pytest.mark.parametrize("number", ["2024年第3号", "沪金规2024-3", "沪金规〔24〕3号", "〔2024〕3号"])
def test_malformed_document_number_is_refused(number):
    from finserv.portal.content.policy import IPolicy

    with pytest.raises(Exception) as info:
        IPolicy["doc_number"].validate(number)
    assert "文号格式不正确" in translate(info.value.doc(), target_language="zh_CN")


def test_expiry_before_effective_date_is_refused():
    from finserv.portal.content.policy import IPolicy

    class Data:
        valid_from = datetime.date(2025, 1, 1)
        valid_to = datetime.date(2024, 12, 31)
        level = "municipal"
        districts = []

    with pytest.raises(Invalid) as info:
        IPolicy.validateInvariants(Data())
    assert "失效日期不能早于生效日期" in translate(info.value.args[0], target_language="zh_CN")


def test_district_policy_needs_a_district():
    from finserv.portal.content.policy import IPolicy

    class Data:
        valid_from = valid_to = None
        level = "district"
        districts = []

    with pytest.raises(Invalid):
        IPolicy.validateInvariants(Data())


def test_attachment_of_forbidden_type_is_refused_in_the_form(manager, http_request):
    policy = make_policy(manager["policies"])
    from plone.namedfile.field import NamedBlobFile as NamedBlobFileField

    field = NamedBlobFileField(title="file")
    validator = PolicyAttachmentValidator(policy, http_request, None, field, None)
    with pytest.raises(Invalid) as info:
        validator.validate(NamedBlobFile(b"MZ...", filename="setup.exe"))
    assert "不允许上传该类型的附件" in translate(info.value.args[0], target_language="zh_CN")
    validator.validate(NamedBlobFile(b"%PDF-1.4", filename="附件一.pdf"))


def test_attachment_of_forbidden_type_saves_nothing(manager):
    from zExceptions import BadRequest

    policy = make_policy(manager["policies"])
    with pytest.raises(BadRequest) as info:
        api.content.create(container=policy, type="File", id="bad", file=NamedBlobFile(b"x", filename="run.bat"))
    assert "不允许上传该类型的附件" in str(info.value)
    api.content.create(container=policy, type="File", id="good", file=NamedBlobFile(b"%PDF", filename="a.pdf"))
    assert "good" in policy.objectIds()


def test_editor_cannot_publish_without_review(portal, users):
    with api.env.adopt_user(username="editor"):
        policy = make_policy(portal["policies"])
        assert "publish" not in [t["id"] for t in portal.portal_workflow.getTransitionsFor(policy)]
        with pytest.raises(InvalidParameterError):
            api.content.transition(obj=policy, transition="publish")
        api.content.transition(obj=policy, transition="submit")
        assert api.content.get_state(policy) == "pending"
        with pytest.raises(InvalidParameterError):
            api.content.transition(obj=policy, transition="publish")
    with api.env.adopt_user(username="reviewer"):
        api.content.transition(obj=policy, transition="publish")
    assert api.content.get_state(policy) == "published"


def test_editor_cannot_change_a_policy_under_review(portal, users):
    with api.env.adopt_user(username="editor"):
        policy = make_policy(portal["policies"])
        assert api.user.has_permission("Modify portal content", obj=policy)
        api.content.transition(obj=policy, transition="submit")
        assert not api.user.has_permission("Modify portal content", obj=policy)


def test_anonymous_sees_only_published_policies(manager):
    draft = make_policy(manager["policies"], id="draft", title="草稿政策")
    published = make_policy(manager["policies"], id="published", title="已发布政策")
    publish(published)
    logout()
    found = {b.getId for b in api.content.find(portal_type="Policy")}
    assert found == {"published"}
    assert not api.user.has_permission("View", obj=draft)
    assert api.user.has_permission("View", obj=published)


def test_news_and_notices_need_review_too(portal, users):
    with api.env.adopt_user(username="editor"):
        news = api.content.create(container=portal["news"], type="News Item", title="新闻")
        with pytest.raises(InvalidParameterError):
            api.content.transition(obj=news, transition="publish")
        api.content.transition(obj=news, transition="submit")
    with api.env.adopt_user(username="reviewer"):
        api.content.transition(obj=news, transition="publish")
    assert news.effective_date is not None


def test_archived_policy_stays_public(manager):
    policy = make_policy(manager["policies"])
    publish(policy)
    api.content.transition(obj=policy, transition="archive")
    logout()
    assert api.user.has_permission("View", obj=policy)
