"""Policy (政策文件): what policy readers search by, with an editorial workflow."""

from finserv import _
from finserv.core.codes import is_valid_doc_number
from finserv.core.codes import normalize_doc_number
from plone.app.z3cform.widgets.relateditems import RelatedItemsFieldWidget
from plone.app.z3cform.widgets.select import SelectFieldWidget
from plone.autoform import directives
from plone.dexterity.content import Container
from plone.supermodel import model
from z3c.relationfield.schema import RelationChoice
from zope import schema
from zope.interface import implementer
from zope.interface import Invalid
from zope.interface import invariant

import datetime


class InvalidDocNumber(schema.ValidationError):
    __doc__ = _(
        "error_doc_number",
        default="文号格式不正确，应为“发文机关代字〔年份〕序号号”，例如：沪金规〔2024〕3号。",
    )


def check_doc_number(value):
    if value and not is_valid_doc_number(normalize_doc_number(value)):
        raise InvalidDocNumber(value)
    return True


class IPolicy(model.Schema):
    """A policy document as readers search for it."""

    model.fieldset(
        "categories",
        label=_("fieldset_categories", default="分类"),
        fields=["topics", "industries", "enterprise_sizes", "districts"],
    )

    doc_number = schema.TextLine(
        title=_("label_doc_number", default="文号"),
        description=_("help_doc_number", default="例如：沪金规〔2024〕3号"),
        required=False,
        constraint=check_doc_number,
    )
    issuing_authority = schema.TextLine(
        title=_("label_issuing_authority", default="发文机关"),
        required=True,
    )
    level = schema.Choice(
        title=_("label_level", default="政策层级"),
        vocabulary="finserv.PolicyLevels",
        required=True,
        default="municipal",
    )
    publish_date = schema.Date(
        title=_("label_publish_date", default="发布日期"),
        required=True,
    )
    valid_from = schema.Date(
        title=_("label_valid_from", default="生效日期"),
        required=False,
    )
    valid_to = schema.Date(
        title=_("label_valid_to", default="失效日期"),
        description=_("help_valid_to", default="过期后自动移出现行政策列表，仍可在归档中查到。"),
        required=False,
    )

    directives.widget("topics", SelectFieldWidget)
    topics = schema.List(
        title=_("label_topics", default="政策主题"),
        value_type=schema.Choice(vocabulary="finserv.PolicyTopics"),
        required=False,
        default=[],
    )
    directives.widget("industries", SelectFieldWidget)
    industries = schema.List(
        title=_("label_industries", default="适用行业（GB/T 4754）"),
        value_type=schema.Choice(vocabulary="finserv.Industries"),
        required=False,
        default=[],
    )
    directives.widget("enterprise_sizes", SelectFieldWidget)
    enterprise_sizes = schema.List(
        title=_("label_enterprise_sizes", default="企业规模"),
        value_type=schema.Choice(vocabulary="finserv.EnterpriseSizes"),
        required=False,
        default=[],
    )
    directives.widget("districts", SelectFieldWidget)
    districts = schema.List(
        title=_("label_districts", default="适用区域"),
        description=_("help_districts", default="不选表示全市适用。"),
        value_type=schema.Choice(vocabulary="finserv.Districts"),
        required=False,
        default=[],
    )

    interpretation = RelationChoice(
        title=_("label_interpretation", default="政策解读"),
        description=_("help_interpretation", default="选择对本政策进行解读的文章。"),
        vocabulary="plone.app.vocabularies.Catalog",
        required=False,
    )
    directives.widget(
        "interpretation",
        RelatedItemsFieldWidget,
        vocabulary="plone.app.vocabularies.Catalog",
        pattern_options={"selectableTypes": ["Document", "News Item"], "maximumSelectionSize": 1},
    )
    application_url = schema.URI(
        title=_("label_application_url", default="申报入口"),
        required=False,
    )

    @invariant
    def validity_period(data):
        start = getattr(data, "valid_from", None)
        end = getattr(data, "valid_to", None)
        if start and end and end < start:
            raise Invalid(_("error_expiry_before_effective", default="失效日期不能早于生效日期。"))

    @invariant
    def district_level_needs_district(data):
        if getattr(data, "level", None) == "district" and not getattr(data, "districts", None):
            raise Invalid(_("error_district_level", default="区级政策须选择适用区域。"))


@implementer(IPolicy)
class Policy(Container):
    """A policy; attachments (File) live inside it."""

    def is_current(self, today=None):
        today = today or datetime.date.today()
        return not (self.valid_to and self.valid_to < today)
