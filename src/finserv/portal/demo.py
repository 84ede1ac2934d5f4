"""Chinese demo content for a new site: policies, an interpretation, news and notices."""

from plone import api
from plone.app.textfield.value import RichTextValue
from z3c.relationfield import RelationValue
from zope.component import getUtility
from zope.intid.interfaces import IIntIds

import datetime

D = datetime.date

POLICIES = [
    {
        "id": "rencaijiang-pingshen-banfa",
        "title": "上海金融人才奖评审办法",
        "doc_number": "沪金规〔2024〕3号",
        "issuing_authority": "中共上海市委金融委员会办公室",
        "level": "municipal",
        "publish_date": D(2024, 6, 18),
        "valid_from": D(2024, 7, 1),
        "valid_to": D(2029, 6, 30),
        "topics": ["talent"],
        "industries": ["J"],
        "description": "规范上海金融人才奖的申报条件、评审程序和奖励标准，吸引和集聚金融人才。",
        "text": "<p>第一条 为加快推进上海国际金融中心建设，吸引和集聚各类优秀金融人才，制定本办法。</p>"
        "<p>第二条 上海金融人才奖分为金融领军人才奖、金融优秀人才奖和金融青年人才奖。</p>"
        "<p>第三条 申报人应当在本市金融机构连续工作满一年，遵纪守法，诚实守信。</p>"
        "<p>第四条 评审工作坚持公开、公平、公正原则，实行专家评审与公示制度。</p>",
        "interpretation": True,
    },
    {
        "id": "jinrong-jigou-fuchi",
        "title": "上海市金融机构扶持政策实施办法（2024年修订）",
        "doc_number": "沪金规〔2024〕1号",
        "issuing_authority": "上海市地方金融管理局",
        "level": "municipal",
        "publish_date": D(2024, 3, 12),
        "valid_from": D(2024, 4, 1),
        "valid_to": D(2028, 12, 31),
        "topics": ["institution"],
        "industries": ["J"],
        "description": "对新设立或新迁入本市的金融机构给予开办、购租房和人才等方面的扶持。",
        "text": "<p>对在本市新设立的法人金融机构，按照实缴资本规模给予一次性开办扶持。</p>"
        "<p>扶持金额按实缴资本分档计算，最高不超过2000万元。</p>",
    },
    {
        "id": "zhishichanquan-qianbuchang",
        "title": "关于进一步做好中小企业知识产权质押贷款风险“前补偿”试点工作的通知",
        "doc_number": "沪财金〔2023〕19号",
        "issuing_authority": "上海市财政局",
        "level": "municipal",
        "publish_date": D(2023, 9, 8),
        "valid_from": D(2023, 10, 1),
        "valid_to": D(2026, 9, 30),
        "topics": ["compensation", "financing"],
        "industries": ["C", "I", "M"],
        "enterprise_sizes": ["small", "micro"],
        "description": "对合作银行发放的知识产权质押贷款，按季度给予风险“前补偿”。",
        "text": "<p>合作银行向本市科技型中小企业发放知识产权质押贷款的，按贷款余额的一定比例给予前补偿。</p>"
        "<p>已享受政策性融资担保或其他财政风险补偿的贷款，不纳入前补偿范围。</p>",
    },
    {
        "id": "pudong-jinrong-keji",
        "title": "浦东新区促进金融科技发展的若干措施",
        "doc_number": "浦府规〔2025〕2号",
        "issuing_authority": "上海市浦东新区人民政府",
        "level": "district",
        "districts": ["310115"],
        "publish_date": D(2025, 2, 20),
        "valid_from": D(2025, 3, 1),
        "topics": ["fintech"],
        "industries": ["I", "J"],
        "description": "支持金融科技企业在浦东新区集聚发展，给予租房、研发和人才扶持。",
        "text": "<p>对在浦东新区新设立的金融科技企业，给予最高三年的办公用房租金补贴。</p>",
    },
    {
        "id": "zhongxiaowei-qiye-jinrong",
        "title": "关于金融支持中小微企业高质量发展的指导意见",
        "doc_number": "银发〔2024〕112号",
        "issuing_authority": "中国人民银行",
        "level": "national",
        "publish_date": D(2024, 5, 30),
        "valid_from": D(2024, 5, 30),
        "topics": ["inclusive", "financing"],
        "enterprise_sizes": ["medium", "small", "micro"],
        "description": "引导金融机构加大对中小微企业的信贷投放，降低综合融资成本。",
        "text": "<p>鼓励银行业金融机构创新信用贷款产品，扩大首贷户覆盖面，推广“信易贷”模式。</p>",
    },
    {
        "id": "lvse-jinrong-fangan",
        "title": "上海市绿色金融发展实施方案",
        "doc_number": "沪府办发〔2022〕18号",
        "issuing_authority": "上海市人民政府办公厅",
        "level": "municipal",
        "publish_date": D(2022, 8, 1),
        "valid_from": D(2022, 8, 1),
        "valid_to": D(2025, 12, 31),
        "topics": ["green"],
        "industries": ["D", "N"],
        "description": "发展绿色信贷、绿色债券和碳金融，服务碳达峰碳中和目标。",
        "text": "<p>支持金融机构发行绿色金融债券，探索碳排放权质押融资。</p>",
        "expired": True,
    },
    {
        "id": "xuhui-qiye-shangshi",
        "title": "徐汇区支持企业上市挂牌的实施办法",
        "doc_number": "徐府发〔2024〕7号",
        "issuing_authority": "上海市徐汇区人民政府",
        "level": "district",
        "districts": ["310104"],
        "publish_date": D(2024, 11, 5),
        "valid_from": D(2024, 11, 5),
        "topics": ["listing"],
        "description": "对在境内外资本市场上市挂牌的徐汇区企业分阶段给予奖励。",
        "text": "<p>企业完成股份制改造、辅导备案、申报受理和成功上市的，分阶段给予奖励。</p>",
    },
    {
        "id": "jishu-hetong-dengji",
        "title": "上海市技术合同认定登记管理办法",
        "doc_number": "沪科规〔2021〕5号",
        "issuing_authority": "上海市科学技术委员会",
        "level": "municipal",
        "publish_date": D(2021, 6, 1),
        "valid_from": D(2021, 7, 1),
        "topics": ["technology"],
        "industries": ["M"],
        "description": "规范技术合同认定登记工作，落实技术交易税收优惠政策。",
        "text": "<p>技术合同认定登记实行卖方登记原则，由技术开发方、转让方、许可方、咨询方或服务方申请认定登记。</p>",
    },
]

NEWS = [
    ("lujiazui-luntan-2025", "2025陆家嘴论坛在沪开幕", "论坛以“金融开放合作 促进世界经济共同发展”为主题，百余位中外嘉宾参会。"),
    ("rencai-gongzuo-tuijinhui", "市金融办召开金融人才工作推进会", "会议部署2025年度上海金融人才奖申报评审工作。"),
    ("xinyidai-qianyi", "“信易贷”平台服务中小微企业融资突破千亿元", "平台累计入驻银行38家，上线金融产品400余款。"),
]

NOTICES = [
    ("rencaijiang-shenbao-2025", "关于开展2025年度上海金融人才奖申报工作的通知", "申报时间为2025年7月1日至7月31日，请符合条件的人员通过本平台在线申报。"),
    ("qianbuchang-2025q2", "关于2025年第二季度“前补偿”贷款数据报送的通知", "请各合作银行于7月15日前完成第二季度贷款数据报送。"),
    ("shijian-jidi-gangwei-2025", "金融人才实践基地2025年挂职岗位征集公告", "欢迎各金融机构发布挂职锻炼岗位。"),
]


def _rich(html):
    return RichTextValue(html, "text/html", "text/x-html-safe")


def install_demo(context=None):
    portal = api.portal.get()
    policies = portal["policies"]
    if policies.objectIds():
        return  # demo content exists already
    interpretation = api.content.create(
        container=portal["news"],
        type="News Item",
        id="rencaijiang-jiedu",
        title="《上海金融人才奖评审办法》政策解读",
        description="一图读懂金融人才奖的申报条件、评审流程与奖励标准。",
        text=_rich("<p>本次修订重点调整了申报条件和奖励标准，进一步向青年人才倾斜。</p>"),
    )
    api.content.transition(obj=interpretation, transition="publish")
    intids = getUtility(IIntIds)
    for data in POLICIES:
        data = dict(data)
        expired = data.pop("expired", False)
        wants_interpretation = data.pop("interpretation", False)
        text = data.pop("text")
        policy = api.content.create(container=policies, type="Policy", text=_rich(text), **data)
        if wants_interpretation:
            policy.interpretation = RelationValue(intids.getId(interpretation))
        api.content.transition(obj=policy, transition="submit")
        api.content.transition(obj=policy, transition="publish")
        if expired:
            api.content.transition(obj=policy, transition="archive")
        policy.reindexObject()
    for id_, title, summary in NEWS:
        item = api.content.create(container=portal["news"], type="News Item", id=id_, title=title, description=summary, text=_rich(f"<p>{summary}</p>"))
        api.content.transition(obj=item, transition="publish")
    for id_, title, summary in NOTICES:
        item = api.content.create(container=portal["notices"], type="Document", id=id_, title=title, description=summary, text=_rich(f"<p>{summary}</p>"))
        api.content.transition(obj=item, transition="publish")
    pudong = portal["districts"]["310115"]
    api.content.create(container=pudong, type="Document", id="zoufang-jihua", title="浦东新区金融企业走访计划（内部）", description="仅浦东新区金融办可见。")
    xuhui = portal["districts"]["310104"]
    api.content.create(container=xuhui, type="Document", id="shangshi-houbei", title="徐汇区上市后备企业名单（内部）", description="仅徐汇区金融办可见。")
