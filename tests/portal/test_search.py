"""Chinese full-text search and the policy filters (the engine behind pages and REST)."""

from finserv.testing import make_policy
from finserv.testing import publish
from finserv.core.search import text_query
from finserv.portal.policysearch import FilterError
from finserv.portal.policysearch import policy_query
from finserv.portal.policysearch import search
from plone import api
from plone.app.textfield.value import RichTextValue

import datetime
import pytest


@pytest.fixture
def library(manager):
    folder = manager["policies"]
    specs = [
        ("rcj", "上海金融人才奖评审办法", "municipal", ["talent"], [], datetime.date(2029, 1, 1), "沪金规〔2024〕3号"),
        ("fc", "上海市金融机构扶持政策实施办法", "municipal", ["institution"], [], None, "沪金规〔2024〕1号"),
        ("pd", "浦东新区促进金融科技发展的若干措施", "district", ["fintech"], ["310115"], None, "浦府规〔2025〕2号"),
        ("old", "上海市绿色金融发展实施方案", "municipal", ["green"], [], datetime.date(2020, 12, 31), "沪府办发〔2018〕9号"),
        ("body", "关于做好年度评审工作的通知", "municipal", ["talent"], [], None, "沪金办〔2024〕20号"),
    ]
    made = {}
    for id_, title, level, topics, districts, valid_to, number in specs:
        made[id_] = make_policy(
            folder, id=id_, title=title, level=level, topics=topics, districts=districts,
            valid_to=valid_to, valid_from=datetime.date(2018, 1, 1), doc_number=number,
            publish_date=datetime.date(2024, 3, 1) if id_ != "pd" else datetime.date(2025, 2, 20),
        )
        publish(made[id_])
    made["body"].text = RichTextValue("<p>本通知涉及上海金融人才奖的推荐工作，人才奖申报截止日期为7月31日。</p>", "text/html", "text/x-html-safe")
    made["body"].reindexObject()
    return made


def ids(form, today=None):
    return [b.getId for b in search(policy_query(form, today=today))]


def test_text_query_turns_what_people_type_into_terms():
    assert text_query("人才奖") == "人才奖"
    assert text_query("2024年 人才奖") == "2024 AND 年* AND 人才奖"
    assert text_query("沪金规〔2024〕3号") == "沪金规 AND 2024 AND 3 AND 号*"
    assert text_query("税") == "税*"
    assert text_query("“，。") is None
    assert text_query("人才 OR NOT 奖") == "人才 AND 奖*"


def test_search_finds_a_word_inside_a_longer_title(library):
    assert "rcj" in ids({"q": "人才奖"})


def test_title_match_ranks_before_body_match(library):
    found = ids({"q": "人才奖"})
    assert found[:2] == ["rcj", "body"]


def test_search_by_document_number_puts_that_policy_first_then_texts_citing_it(library):
    library["body"].text = RichTextValue("<p>依据沪金规〔2024〕3号，做好评审工作。</p>", "text/html", "text/x-html-safe")
    library["body"].reindexObject()
    assert ids({"q": "沪金规〔2024〕3号"}) == ["rcj", "body"]
    assert ids({"q": "沪金规(2024)3号"})[0] == "rcj"
    assert ids({"q": "沪金规（2024）3号", "status": "all"})[0] == "rcj"
    assert ids({"q": "沪金规〔2024〕99号"}) == []


def test_search_by_category_label_not_in_the_text(library):
    # "金融科技" is both in the title and the topic; "区级" is only the level's label
    assert ids({"q": "区级"}) == ["pd"]


def test_single_character_query(library):
    assert "fc" in ids({"q": "扶"})


def test_filters_by_level_topic_and_district(library):
    assert ids({"level": "district"}) == ["pd"]
    assert set(ids({"topic": "talent"})) == {"rcj", "body"}
    # a district's readers see the city-wide policies and their own district's
    assert "pd" in ids({"district": "310115"})
    assert "pd" not in ids({"district": "310104"})
    assert "rcj" in ids({"district": "310104"})


def test_filter_by_publication_date_range(library):
    assert ids({"date_from": "2025-01-01"}) == ["pd"]
    assert "pd" not in ids({"date_to": "2024-12-31"})


def test_expired_policy_leaves_current_list_and_is_in_archive(library):
    assert "old" not in ids({})
    assert ids({"status": "archived"}) == ["old"]
    # time passes: the talent award's validity ends on 2029-01-01
    assert "rcj" not in ids({}, today=datetime.date(2030, 1, 1))
    assert "rcj" in ids({"status": "archived"}, today=datetime.date(2030, 1, 1))


def test_archived_policy_leaves_current_list(library):
    api.content.transition(obj=library["fc"], transition="archive")
    assert "fc" not in ids({})
    assert "fc" in ids({"status": "archived"})
    api.content.transition(obj=library["fc"], transition="republish")
    assert "fc" in ids({})


def test_newest_first_without_text(library):
    assert ids({})[0] == "pd"


@pytest.mark.parametrize(
    "form, message",
    [
        ({"level": "galactic"}, "无效"),
        ({"district": "999999"}, "无效"),
        ({"date_from": "2024/01/01"}, "YYYY-MM-DD"),
        ({"date_from": "2025-01-01", "date_to": "2024-01-01"}, "截止日期不能早于起始日期"),
        ({"status": "deleted"}, "状态"),
        ({"b_size": "5000"}, "每页条数"),
        ({"b_size": "abc"}, "每页条数"),
        ({"q": "金" * 101}, "检索词不能超过"),
        ({"sort": "price"}, "排序方式"),
    ],
)
def test_bad_filters_get_a_chinese_message(form, message):
    from zope.i18n import translate

    with pytest.raises(FilterError) as info:
        policy_query(form)
    assert message in translate(info.value.message, target_language="zh_CN")
