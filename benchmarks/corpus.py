"""A reproducible corpus of Chinese financial policies, the queries run against it, and its ground truth.

Pure Python (no Plone imports), so the load driver, the site builder (run by ``zconsole run``)
and the report all see the same data. ``policies(n)`` always yields the same records for the
same ``n`` and ``SEED``: titles, summaries and bodies are drawn from the phrase lists below with
a seeded RNG, and bodies mix paragraphs of several topics, as real policies do.

A handful of fixed "anchor" records come first (the 人才奖 rules 沪金规〔2024〕3号 and the
yearly calls for 人才奖 applications, which cite it), so that ranking can be checked.

``CORPUS_VERSION`` is stored with the built sites; change it whenever the generator changes
so that ``run_all.py`` rebuilds them instead of measuring stale content.
"""

from __future__ import annotations

import datetime
import random
import re
import unicodedata

SEED = 20241124
CORPUS_VERSION = "3"
TODAY = datetime.date(2025, 11, 24)  # fixed "today" for generated dates (expiry is checked live)

# --- vocabularies (tokens as in finserv.portal.vocabularies / finserv.core.codes) -------------

TOPIC_LABELS = {
    "talent": "金融人才",
    "institution": "金融机构扶持",
    "fintech": "金融科技",
    "inclusive": "普惠金融",
    "green": "绿色金融",
    "financing": "融资服务",
    "compensation": "信贷风险补偿",
    "listing": "企业上市",
    "technology": "科技创新与技术合同",
    "risk": "金融风险防范",
    "forum": "金融论坛活动",
}
LEVEL_LABELS = {"national": "国家级", "municipal": "市级", "district": "区级"}
SIZE_LABELS = {"large": "大型企业", "medium": "中型企业", "small": "小型企业", "micro": "微型企业"}
DISTRICTS = {
    "310101": "黄浦区", "310104": "徐汇区", "310105": "长宁区", "310106": "静安区",
    "310107": "普陀区", "310109": "虹口区", "310110": "杨浦区", "310112": "闵行区",
    "310113": "宝山区", "310114": "嘉定区", "310115": "浦东新区", "310116": "金山区",
    "310117": "松江区", "310118": "青浦区", "310120": "奉贤区", "310151": "崇明区",
}
DISTRICT_PREFIX = {
    "310101": "黄府发", "310104": "徐府发", "310105": "长府发", "310106": "静府规",
    "310107": "普府发", "310109": "虹府发", "310110": "杨府发", "310112": "闵府规",
    "310113": "宝府规", "310114": "嘉府发", "310115": "浦府规", "310116": "金府发",
    "310117": "松府规", "310118": "青府发", "310120": "奉府规", "310151": "崇府规",
}
INDUSTRY_LABELS = {
    "A": "农、林、牧、渔业", "C": "制造业", "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业", "F": "批发和零售业", "G": "交通运输、仓储和邮政业",
    "I": "信息传输、软件和信息技术服务业", "J": "金融业", "K": "房地产业",
    "L": "租赁和商务服务业", "M": "科学研究和技术服务业", "N": "水利、环境和公共设施管理业",
}
INDUSTRY_WEIGHTS = {"J": 30, "I": 14, "M": 12, "C": 12, "L": 5, "F": 5, "G": 4, "D": 4, "N": 4, "E": 3, "K": 3, "A": 2}

NATIONAL = [("中国人民银行", "银发"), ("国家金融监督管理总局", "金规"), ("中国证券监督管理委员会", "证监发"),
            ("财政部", "财金"), ("国务院办公厅", "国办发")]
MUNICIPAL = [("上海市地方金融管理局", "沪金规"), ("中共上海市委金融委员会办公室", "沪金办"),
             ("上海市人民政府办公厅", "沪府办发"), ("上海市财政局", "沪财金"), ("上海市科学技术委员会", "沪科规"),
             ("上海市经济和信息化委员会", "沪经信规"), ("上海市人力资源和社会保障局", "沪人社规")]

# --- phrases per topic ------------------------------------------------------------------------
# Never use a category label that is meant to be found only through metadata (信贷风险补偿,
# 租赁和商务服务业, 小型企业, 科技创新与技术合同, 金融论坛活动) in the text pools below.

SUBJECTS = {
    "talent": ["金融人才引进", "金融领军人才培养", "金融人才安居保障", "青年金融人才发展", "金融人才实践基地建设", "金融人才评价"],
    "institution": ["金融机构集聚发展", "法人金融机构落户", "外资金融机构设立", "金融机构总部建设", "资产管理机构发展"],
    "fintech": ["金融科技创新", "金融科技企业培育", "数字人民币试点", "监管沙盒试点", "金融数据要素流通"],
    "inclusive": ["普惠金融发展", "小微企业首贷服务", "中小微企业融资", "民营企业金融服务", "农业保险高质量发展"],
    "green": ["绿色金融发展", "碳金融市场建设", "绿色信贷扩面增量", "转型金融试点", "绿色债券发行"],
    "financing": ["政策性融资担保", "供应链金融发展", "融资担保体系建设", "应收账款融资", "知识产权质押融资"],
    "compensation": ["贷款风险补偿", "知识产权质押贷款风险前补偿", "科技型企业贷款风险分担", "首贷风险缓释"],
    "listing": ["企业上市挂牌", "科创板上市培育", "上市后备企业培育", "并购重组", "区域性股权市场发展"],
    "technology": ["技术合同认定登记", "技术转移机构建设", "科技成果转化", "技术经理人队伍建设"],
    "risk": ["防范非法集资", "金融风险监测预警", "地方金融组织监管", "私募投资基金风险处置"],
    "forum": ["陆家嘴论坛筹办", "金融服务对接活动", "金融知识普及宣传", "银企对接会组织"],
}

DOC_FORMS = [
    ("关于{verb}{subject}的若干措施", 20), ("关于{verb}{subject}的实施意见", 16), ("{subject}管理办法", 14),
    ("{subject}实施细则", 10), ("关于印发《{subject}工作方案》的通知", 12), ("关于做好{year}年{subject}工作的通知", 10),
    ("{subject}专项资金管理办法", 8), ("关于{verb}{subject}的指导意见", 10),
]
VERBS = ["进一步促进", "加快推进", "支持", "全面加强", "持续优化", "深化", "规范", "鼓励"]

PARAGRAPHS = {
    "talent": [
        "对经认定的金融领军人才，给予最高{amount}万元的一次性奖励，并在子女入学、医疗保健等方面提供便利。",
        "上海金融人才奖每年评审一次，分为金融领军人才奖、金融优秀人才奖和金融青年人才奖三类。",
        "符合条件的金融人才可申请人才公寓或租房补贴，补贴期限最长{years}年。",
        "申报人应当在本市金融机构连续工作满一年，遵纪守法，诚实守信，业绩突出。",
        "鼓励金融机构与高校共建金融人才实践基地，开展挂职锻炼和联合培养。",
        "对引进的海外高层次金融人才，优先办理居住证积分和落户手续。",
    ],
    "institution": [
        "对新设立的法人金融机构，按实缴资本给予开办补贴，最高不超过{amount}万元。",
        "金融机构购置或租赁自用办公用房的，按实际支付费用的一定比例给予补贴。",
        "支持外资金融机构在本市设立法人机构、分支机构和功能性总部。",
        "对年度经营贡献突出的金融机构，由市级财政给予一次性奖励。",
        "金融机构高级管理人员可按规定享受人才服务绿色通道。",
    ],
    "fintech": [
        "支持金融科技企业开展人工智能、区块链、大数据等关键技术攻关。",
        "对入选金融科技创新监管试点的项目，给予最高{amount}万元的研发补助。",
        "推动数字人民币在公共交通、政务缴费和跨境支付等场景的应用。",
        "鼓励银行运用金融科技手段优化小微企业线上信贷流程。",
        "建设金融科技产业园区，对入驻企业给予{years}年办公用房租金补贴。",
    ],
    "inclusive": [
        "引导银行业金融机构扩大首贷户覆盖面，推广“信易贷”模式。",
        "对小微企业和个体工商户的普惠贷款，给予一定比例的贴息支持。",
        "鼓励金融机构创新信用贷款产品，降低中小微企业综合融资成本。",
        "落实小微企业贷款尽职免责制度，提升基层信贷人员放贷积极性。",
        "政府性融资担保机构对小微企业的担保费率原则上不超过百分之一。",
    ],
    "green": [
        "支持金融机构发行绿色金融债券，探索碳排放权质押融资。",
        "建立绿色项目库，对符合条件的绿色信贷给予贴息。",
        "鼓励保险机构开发环境污染责任保险和气候保险产品。",
        "推动转型金融标准落地，支持高碳企业低碳转型。",
        "金融机构应当按年度披露环境信息，接受社会监督。",
    ],
    "financing": [
        "发挥政策性融资担保作用，对符合条件的担保业务给予担保费补贴。",
        "支持核心企业开展供应链金融，帮助上下游企业盘活应收账款。",
        "推广知识产权质押融资，建立知识产权评估和处置机制。",
        "完善融资担保风险分担机制，市、区两级财政按比例分担代偿损失。",
        "鼓励银行开展应收账款融资和订单融资业务，缓解企业资金压力。",
    ],
    "compensation": [
        "合作银行向科技型中小企业发放知识产权质押贷款的，按贷款余额的一定比例给予前补偿。",
        "已享受政策性融资担保或其他财政风险补偿的贷款，不纳入前补偿范围。",
        "风险补偿资金实行专户管理，专款专用，按季度拨付。",
        "合作银行应当于每季度结束后十五日内报送贷款数据。",
        "对发生不良的贷款，按核定损失的{percent}%给予补偿。",
    ],
    "listing": [
        "对完成股份制改造的企业给予一次性奖励{amount}万元。",
        "企业在科创板、创业板或北交所首发上市的，分阶段给予奖励。",
        "建立上市后备企业库，实行一企一策精准服务。",
        "支持上市公司通过并购重组做优做强。",
        "对在区域性股权市场挂牌的企业给予挂牌费用补贴。",
    ],
    "technology": [
        "技术合同认定登记实行卖方登记原则，由技术开发方、转让方、许可方或服务方申请登记。",
        "经认定登记的技术合同可按规定享受增值税和企业所得税优惠。",
        "支持技术转移机构建设，对年度技术交易额突出的机构给予奖励。",
        "技术经理人可参加职称评审，享受人才政策支持。",
    ],
    "risk": [
        "各区应当建立防范和处置非法集资工作机制，落实属地责任。",
        "加强对小额贷款公司、融资租赁公司等地方金融组织的日常监管。",
        "建设金融风险监测预警平台，实现风险早识别、早预警、早处置。",
        "开展金融知识进社区活动，提高公众风险防范意识。",
    ],
    "forum": [
        "陆家嘴论坛每年举办一次，邀请中外金融界嘉宾共商发展。",
        "定期组织银企对接会，搭建金融机构与企业的沟通平台。",
        "面向中小微企业开展金融政策宣讲和融资服务专场活动。",
    ],
}
GENERIC = [
    "本办法自{valid}起施行，有效期{years}年。",
    "申报单位对申报材料的真实性负责，弄虚作假的，取消其申报资格并追回已拨付资金。",
    "各区、各部门应当加强组织领导，细化工作措施，确保政策落地见效。",
    "本措施所需资金由市级财政和区级财政按规定分担。",
    "{district}可结合本区实际，制定配套实施细则。",
    "享受本政策的企业应当依法纳税，在本市注册并正常经营。",
    "相关企业可按规定享受研发费用加计扣除等税收优惠政策。",
    "本政策由{authority}负责解释。",
    "{year}年起，申报工作通过上海金融综合服务平台在线办理。",
]
SUMMARIES = [
    "明确{subject}的支持对象、支持标准和申报程序，推动{topic_phrase}。",
    "围绕{subject}，提出{n}条具体措施，进一步优化营商环境。",
    "对{subject}给予资金、用房和人才等方面的支持。",
    "规范{subject}工作，明确职责分工和办理流程。",
]
CN_NUM = "一二三四五六七八九十"


def _weighted(rng, weights):
    items = list(weights)
    return rng.choices(items, weights=[weights[i] for i in items], k=1)[0]


def _date_between(rng, start, end):
    return start + datetime.timedelta(days=rng.randrange((end - start).days))


def _fill(template, rng, **values):
    values.setdefault("amount", rng.choice([50, 100, 200, 300, 500, 1000, 2000]))
    values.setdefault("years", rng.choice([2, 3, 5]))
    values.setdefault("percent", rng.choice([20, 30, 40, 50]))
    return template.format(**values)


ANCHOR_TEXT = (
    "<p>第一条 为加快推进上海国际金融中心建设，吸引和集聚各类优秀金融人才，制定本办法。</p>"
    "<p>第二条 上海金融人才奖分为金融领军人才奖、金融优秀人才奖和金融青年人才奖。</p>"
    "<p>第三条 申报人应当在本市金融机构连续工作满一年，遵纪守法，诚实守信。</p>"
    "<p>第四条 评审工作坚持公开、公平、公正原则，实行专家评审与公示制度。</p>"
)


def _anchors():
    """Fixed records: the 人才奖 rules and the yearly calls that cite them."""
    out = [dict(
        title="上海金融人才奖评审办法", doc_number="沪金规〔2024〕3号", issuing_authority="中共上海市委金融委员会办公室",
        level="municipal", districts=[], topics=["talent"], industries=["J"], enterprise_sizes=[],
        publish_date=datetime.date(2024, 6, 18), valid_from=datetime.date(2024, 7, 1), valid_to=datetime.date(2029, 6, 30),
        description="规范上海金融人才奖的申报条件、评审程序和奖励标准，吸引和集聚金融人才。", text=ANCHOR_TEXT,
    )]
    for i, year in enumerate(range(2019, 2026)):
        basis = "《上海金融人才奖评审办法》（沪金规〔2024〕3号）" if year >= 2024 else "《上海金融人才奖评审办法》"
        out.append(dict(
            title=f"关于开展{year}年度上海金融人才奖申报工作的通知", doc_number=f"沪金办〔{year}〕{90 + i}号",
            issuing_authority="中共上海市委金融委员会办公室", level="municipal", districts=[], topics=["talent"],
            industries=["J"], enterprise_sizes=[], publish_date=datetime.date(year, 5, 20),
            valid_from=datetime.date(year, 5, 20), valid_to=datetime.date(year, 12, 31),
            description=f"{year}年度上海金融人才奖申报时间为7月1日至7月31日，请符合条件的人员在线申报。",
            text=f"<p>根据{basis}，现就{year}年度申报工作通知如下。</p>"
            "<p>一、申报对象为在本市金融机构工作的各类金融人才。</p>"
            "<p>二、申报材料通过上海金融综合服务平台在线提交。</p>",
        ))
    return out


def policies(n: int = 10_000):
    """``n`` policy records (dicts with the Policy schema's field names, plus ``id``)."""
    rng = random.Random(SEED)
    records = _anchors()
    serial = {}
    used = {(r["doc_number"]) for r in records}
    while len(records) < n:
        level = _weighted(rng, {"national": 15, "municipal": 50, "district": 35})
        if level == "national":
            authority, prefix = rng.choice(NATIONAL)
            districts = []
        elif level == "municipal":
            authority, prefix = rng.choice(MUNICIPAL)
            districts = rng.sample(sorted(DISTRICTS), rng.choice([1, 2, 3])) if rng.random() < 0.2 else []
        else:
            code = rng.choice(sorted(DISTRICTS))
            if rng.random() < 0.25:
                code = "310115"  # 浦东新区 issues more than its share
            authority, prefix = f"上海市{DISTRICTS[code]}人民政府", DISTRICT_PREFIX[code]
            districts = [code]
        topics = [rng.choice(list(TOPIC_LABELS))]
        for extra in rng.sample(list(TOPIC_LABELS), rng.choice([0, 0, 1, 1, 2])):
            if extra not in topics:
                topics.append(extra)
        industries = sorted({_weighted(rng, INDUSTRY_WEIGHTS) for _ in range(rng.choice([0, 1, 1, 2, 3]))})
        sizes = sorted(rng.sample(list(SIZE_LABELS), rng.choice([0, 0, 1, 2, 3])), key=list(SIZE_LABELS).index)
        publish = _date_between(rng, datetime.date(2015, 1, 1), datetime.date(2025, 11, 1))
        year = publish.year
        number = serial.get((prefix, year), 0) + 1
        doc_number = f"{prefix}〔{year}〕{number}号"
        while doc_number in used:
            number += 1
            doc_number = f"{prefix}〔{year}〕{number}号"
        serial[(prefix, year)] = number
        used.add(doc_number)
        valid_from = publish + datetime.timedelta(days=rng.choice([0, 0, 10, 15, 30]))
        valid_to = None if rng.random() < 0.4 else valid_from + datetime.timedelta(days=365 * rng.choice([2, 3, 5]) - 1)

        subject = rng.choice(SUBJECTS[topics[0]])
        form = _weighted(rng, dict(DOC_FORMS))
        place = DISTRICTS[districts[0]] if level == "district" else ("上海市" if level == "municipal" and rng.random() < 0.5 else "")
        title = place + _fill(form, rng, verb=rng.choice(VERBS), subject=subject, year=year)
        summary = _fill(rng.choice(SUMMARIES), rng, subject=subject, topic_phrase=rng.choice(SUBJECTS[rng.choice(topics)]) + "高质量发展", n=rng.randrange(8, 30))

        paragraphs = []
        pool_topics = topics + rng.sample(list(TOPIC_LABELS), 2)  # bodies mix topics
        district_name = DISTRICTS[districts[0]] if districts else rng.choice(["各区", "浦东新区", "黄浦区", "徐汇区"])
        seen = set()
        for _ in range(rng.randrange(4, 12)):
            if rng.random() < 0.25:
                template = rng.choice(GENERIC)
            else:
                template = rng.choice(PARAGRAPHS[rng.choice(pool_topics)])
            if template in seen:
                continue  # a policy does not say the same thing twice
            seen.add(template)
            text = _fill(template, rng, valid=f"{valid_from.year}年{valid_from.month}月{valid_from.day}日",
                         district=district_name, authority=authority, year=year)
            i = len(paragraphs)
            paragraphs.append(f"<p>第{CN_NUM[i] if i < 10 else '十' + CN_NUM[i - 10]}条 {text}</p>")
        records.append(dict(
            title=title, doc_number=doc_number, issuing_authority=authority, level=level, districts=districts,
            topics=topics, industries=industries, enterprise_sizes=sizes, publish_date=publish,
            valid_from=valid_from, valid_to=valid_to, description=summary, text="".join(paragraphs),
        ))
    for i, record in enumerate(records[:n]):
        record["id"] = f"p{i + 1:05d}"
    return records[:n]


# --- queries ------------------------------------------------------------------------------------

QUERIES = [
    # (query as a reader types it, why it is in the list)
    ("人才奖", "title phrase; ranking check"),
    ("金融科技", "topic word, in titles and bodies"),
    ("知识产权质押", "phrase in bodies"),
    ("融资担保", "phrase in bodies"),
    ("2024年", "digits + Han: vanilla's parser turns it into a glob phrase"),
    ("浦东新区", "district: body text and district metadata"),
    ("绿色金融", "topic word"),
    ("税", "single character"),
    ("沪金规〔2024〕3号", "document number (metadata only, and cited in bodies)"),
    ("信贷风险补偿", "topic label only (never in body text)"),
    ("租赁和商务服务业", "industry label only"),
    ("小型企业", "enterprise-size label only"),
    ("科技创新与技术合同", "topic label only"),
    ("上海金融人才奖评审办法", "full title"),
    ("首贷户", "rare body term"),
    ("碳排放权", "rare body term"),
    ("金融科技 浦东新区", "two words"),
    ("供应链金融", "phrase in bodies"),
    ("徐汇区 上市", "district + topic word"),
    ("科创板", "rare body term"),
    ("国家级", "level label only"),
    ("人才公寓、租房补贴", "two phrases with full-width punctuation"),
]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TERM_RE = re.compile(rf"[{_HAN}]+|[A-Za-z0-9]+")
_TAG_RE = re.compile(r"<[^>]+>")


def terms(query: str) -> list[str]:
    """Han runs and latin/digit words of a query (the same rule finserv.core.search uses)."""
    return [t for t in _TERM_RE.findall(unicodedata.normalize("NFKC", query)) if t.lower() not in ("and", "or", "not")]


def visible_text(record: dict, metadata: bool = True) -> str:
    """What a reader sees of a policy: title, summary, body, and (on the policy page) its facts."""
    parts = [record["title"], record["description"], _TAG_RE.sub(" ", record["text"])]
    if metadata:
        parts += [record["doc_number"], record["issuing_authority"], LEVEL_LABELS[record["level"]]]
        parts += [TOPIC_LABELS[t] for t in record["topics"]]
        parts += [SIZE_LABELS[s] for s in record["enterprise_sizes"]]
        parts += [DISTRICTS[d] for d in record["districts"]]
        parts += [INDUSTRY_LABELS[i] for i in record["industries"]]
    return unicodedata.normalize("NFKC", " ".join(parts))


def query_parts(query: str) -> list[str]:
    """The parts of a query as a reader means them: split at spaces and at 、，；： only."""
    return [p for p in re.split(r"[\s、，,；;：:]+", unicodedata.normalize("NFKC", query)) if p]


def relevant(records, query: str, metadata: bool = True) -> set[str]:
    """Ids of the records whose visible text contains every part of ``query`` (the ground truth).

    A part is matched as typed, so 沪金规〔2024〕3号 is relevant only where that number is
    written (not in 沪金规〔2024〕13号) and 2024年 only where "2024年" is.
    """
    parts = query_parts(query)
    return {r["id"] for r in records if parts and all(p in visible_text(r, metadata) for p in parts)}


if __name__ == "__main__":
    import collections
    import sys
    import time

    t0 = time.time()
    recs = policies(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    print(f"{len(recs)} records in {time.time() - t0:.2f}s; {len({r['title'] for r in recs})} distinct titles")
    print("avg body chars", sum(len(r["text"]) for r in recs) // len(recs))
    print(collections.Counter(r["level"] for r in recs))
    for r in recs[:3] + recs[8:11]:
        print(r["id"], r["doc_number"], r["title"], "|", r["description"])
        print("   ", r["text"][:200])
    for q, _why in QUERIES:
        print(q, len(relevant(recs, q)), len(relevant(recs, q, metadata=False)))
