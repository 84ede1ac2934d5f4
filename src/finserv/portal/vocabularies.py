"""Vocabularies of the policy library."""

from finserv import _
from finserv.core.vocabularies import make_vocabulary
from zope.interface import provider
from zope.schema.interfaces import IVocabularyFactory

LEVELS = make_vocabulary(
    [
        ("national", _("level_national", default="国家级")),
        ("municipal", _("level_municipal", default="市级")),
        ("district", _("level_district", default="区级")),
    ]
)

TOPICS = make_vocabulary(
    [
        ("talent", _("topic_talent", default="金融人才")),
        ("institution", _("topic_institution", default="金融机构扶持")),
        ("fintech", _("topic_fintech", default="金融科技")),
        ("inclusive", _("topic_inclusive", default="普惠金融")),
        ("green", _("topic_green", default="绿色金融")),
        ("financing", _("topic_financing", default="融资服务")),
        ("compensation", _("topic_compensation", default="信贷风险补偿")),
        ("listing", _("topic_listing", default="企业上市")),
        ("technology", _("topic_technology", default="科技创新与技术合同")),
        ("risk", _("topic_risk", default="金融风险防范")),
        ("forum", _("topic_forum", default="金融论坛活动")),
    ]
)

# 《中小企业划型标准规定》 工信部联企业〔2011〕300号
SIZES = make_vocabulary(
    [
        ("large", _("size_large", default="大型企业")),
        ("medium", _("size_medium", default="中型企业")),
        ("small", _("size_small", default="小型企业")),
        ("micro", _("size_micro", default="微型企业")),
    ]
)


@provider(IVocabularyFactory)
def LevelVocabulary(context=None):
    return LEVELS


@provider(IVocabularyFactory)
def TopicVocabulary(context=None):
    return TOPICS


@provider(IVocabularyFactory)
def SizeVocabulary(context=None):
    return SIZES
