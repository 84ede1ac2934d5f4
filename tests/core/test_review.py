"""Review chains: 预审 → 部门联审, 或签 / 会签, return for correction, reject, withdraw,
versioned chains, reviewers' queues, deadlines — through the Python API, REST and the pages."""

from AccessControl import Unauthorized
from finserv.core import review
from finserv.core.audit import get_store as audit_store
from finserv.core.notify.store import get_store as notify_store
from plone import api
from plone.app.testing import setRoles
from plone.app.testing import TEST_USER_ID
from zope.component import provideHandler

import datetime
import pytest
import transaction

PASSWORD = "Secret-pass-2024!"
USERS = {
    # user id: (full name, groups)
    "zhangsan": ("张申请", ["enterprises"]),
    "lisi": ("李预审", ["office-staff"]),
    "wangwu": ("王预审", ["office-staff"]),
    "zhaoliu": ("赵联审", ["dept-joint"]),
    "qianqi": ("钱联审", ["dept-joint"]),
    "sunba": ("孙路人", ["public"]),
}
TWO_STEPS = {
    "id": "forum-registration",
    "title": "论坛报名审核",
    "steps": [
        {"title": "预审", "group": "office-staff", "mode": "any", "deadline_days": 3},
        {"title": "部门联审", "group": "dept-joint", "mode": "all", "deadline_days": 5},
    ],
}


def _setup(portal):
    setRoles(portal, TEST_USER_ID, ["Manager"])
    fti = portal.portal_types.Document
    if "finserv.review" not in fti.behaviors:
        fti.manage_changeProperties(behaviors=tuple(fti.behaviors) + ("finserv.review",))
    api.group.create(groupname="dept-joint", title="部门联审组")
    for user_id, (fullname, groups) in USERS.items():
        api.user.create(email=f"{user_id}@example.cn", username=user_id, password=PASSWORD, properties={"fullname": fullname})
        for group in groups:
            api.group.add_user(groupname=group, username=user_id)
    # The applicant may add items in one folder; everything else stays private to them.
    folder = api.content.create(container=portal, type="Folder", id="applications", title="申请")
    api.user.grant_roles(username="zhangsan", roles=["Contributor"], obj=folder)
    review.save_chain(dict(TWO_STEPS), portal=portal)
    return folder


def new_item(folder, title="2024 陆家嘴论坛报名"):
    with api.env.adopt_user(username="zhangsan"):
        return api.content.create(container=folder, type="Document", title=title)


def as_user(user_id, fn, *args, **kwargs):
    with api.env.adopt_user(username=user_id):
        return fn(*args, **kwargs)


@pytest.fixture
def folder(portal):
    return _setup(portal)


@pytest.fixture
def site(functional_portal):
    folder = _setup(functional_portal)
    # Staff log in with a second factor (tested in test_login_security); here a password does.
    api.portal.set_registry_record("finserv.login.twofactor_groups", [])
    api.portal.set_registry_record("finserv.login.twofactor_roles", [])
    item = new_item(folder)
    transaction.commit()
    return functional_portal, item


# --- the Python API and the rules ------------------------------------------------------------


def test_two_step_chain_approves_through_both_steps(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    assert review.status(item) == "in_review" and review.current_step(item)["title"] == "预审"
    as_user("lisi", review.decide, item, "approve")  # 或签: one of the pre-reviewers is enough
    assert review.current_step(item)["title"] == "部门联审"
    as_user("zhaoliu", review.decide, item, "approve")
    as_user("qianqi", review.decide, item, "approve")
    assert review.status(item) == "approved" and review.current_step(item) is None
    assert [h["action"] for h in review.history(item)] == ["submit", "approve", "approve", "approve"]


def test_non_member_of_the_step_group_cannot_decide(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    for outsider in ("sunba", "zhaoliu"):  # zhao reviews the second step, not this one
        with pytest.raises(Unauthorized) as raised:
            as_user(outsider, review.decide, item, "approve")
        assert "不是“预审”环节的审批人" in str(raised.value)
    with pytest.raises(Unauthorized):
        as_user("zhangsan", review.decide, item, "approve")  # nor the applicant
    assert review.status(item) == "in_review" and len(review.history(item)) == 1


def test_reviewers_see_a_private_item_only_while_it_waits_at_their_step(folder):
    item = new_item(folder)
    assert api.content.get_state(item) == "private"

    def can_view(user_id):
        return as_user(user_id, api.user.has_permission, "View", obj=item)

    assert not can_view("lisi") and not can_view("zhaoliu")
    as_user("zhangsan", review.submit, item, "forum-registration")
    assert can_view("lisi") and not can_view("zhaoliu") and not can_view("sunba")
    assert len(as_user("zhaoliu", api.content.find, UID=item.UID())) == 0
    as_user("wangwu", review.decide, item, "approve")
    assert not can_view("lisi") and can_view("zhaoliu")
    assert [b.UID for b in as_user("zhaoliu", api.content.find, UID=item.UID())] == [item.UID()]
    assert "Owner" in item.get_local_roles_for_userid("zhangsan")


def test_countersign_step_needs_every_member(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    as_user("lisi", review.decide, item, "approve")
    as_user("zhaoliu", review.decide, item, "approve")
    step = review.current_step(item)
    assert step["title"] == "部门联审" and review.status(item) == "in_review"
    assert review.info(item)["step"]["waiting_for"] == ["qianqi"]
    with pytest.raises(review.ReviewError):
        as_user("zhaoliu", review.decide, item, "approve")  # approving twice does not count twice
    as_user("qianqi", review.decide, item, "approve")
    assert review.status(item) == "approved"


def test_one_return_in_a_countersign_step_ends_it(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    as_user("lisi", review.decide, item, "approve")
    as_user("zhaoliu", review.decide, item, "approve")
    as_user("qianqi", review.decide, item, "return", comment="请补充参会人员名单")
    assert review.status(item) == "returned"


def test_return_requires_a_comment_and_goes_back_to_the_applicant_who_resubmits(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    as_user("lisi", review.decide, item, "approve")
    with pytest.raises(review.ReviewError) as raised:
        as_user("zhaoliu", review.decide, item, "return", comment="  ")
    assert "必须填写审批意见" in review.t(raised.value.message)
    assert review.status(item) == "in_review"

    as_user("zhaoliu", review.decide, item, "return", comment="请补充营业执照扫描件")
    assert review.status(item) == "returned"
    assert item.get_local_roles_for_userid("dept-joint") == ()  # reviewers lose the item
    assert as_user("zhangsan", review.allowed_actions, item) == ["submit", "withdraw"]
    with api.env.adopt_user(username="zhangsan"):
        item.title = "2024 陆家嘴论坛报名（已补充）"
        review.submit(item)
    # Resubmission resumes at the step that returned it; the pre-review approval stands.
    assert review.current_step(item)["title"] == "部门联审"
    assert review.history(item)[-1]["action"] == "resubmit"
    as_user("zhaoliu", review.decide, item, "approve")
    as_user("qianqi", review.decide, item, "approve")
    assert review.status(item) == "approved"


def test_a_step_may_return_to_the_previous_step(folder, portal):
    review.save_chain({"id": "loan-report", "title": "贷款报送审核", "steps": [
        {"title": "预审", "group": "office-staff"},
        {"title": "复核", "group": "dept-joint", "return_to": "previous"},
    ]}, portal=portal)
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "loan-report")
    as_user("lisi", review.decide, item, "approve")
    as_user("zhaoliu", review.decide, item, "return", comment="预审意见不完整，请重新预审")
    assert review.status(item) == "in_review" and review.current_step(item)["title"] == "预审"


def test_reject_is_final(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    with pytest.raises(review.ReviewError):
        as_user("lisi", review.decide, item, "reject")  # a reason is required
    as_user("lisi", review.decide, item, "reject", comment="不符合报名条件")
    assert review.status(item) == "rejected"
    with pytest.raises(review.ReviewError):
        as_user("zhangsan", review.submit, item, "forum-registration")
    with pytest.raises(review.ReviewError):
        as_user("wangwu", review.decide, item, "approve")
    assert as_user("zhangsan", review.allowed_actions, item) == []


def test_decisions_after_the_item_left_the_step_are_refused(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    ticket = as_user("wangwu", review.info, item)["ticket"]
    as_user("lisi", review.decide, item, "approve")  # li decided first; wang's page is stale
    with pytest.raises(review.ReviewError) as raised:
        as_user("wangwu", review.decide, item, "approve", ticket=ticket)
    assert raised.value.status == 409 and "已离开" in review.t(raised.value.message)
    with pytest.raises(Unauthorized):
        as_user("wangwu", review.decide, item, "approve")  # and without a ticket: not his step now


def test_applicant_withdraws_while_in_review(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    with pytest.raises(Unauthorized):
        as_user("lisi", review.withdraw, item)
    as_user("zhangsan", review.withdraw, item)
    assert review.status(item) == "withdrawn" and item.get_local_roles_for_userid("office-staff") == ()
    with pytest.raises(review.ReviewError):
        as_user("lisi", review.decide, item, "approve")


def test_decisions_are_in_the_history_and_the_audit_trail(folder, portal):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    as_user("lisi", review.decide, item, "reject", comment="材料不全")
    entry = review.history(item)[-1]
    assert entry["actor"] == "lisi" and entry["actor_name"] == "李预审" and entry["step_title"] == "预审"
    assert entry["action"] == "reject" and entry["comment"] == "材料不全"
    utc = datetime.datetime.fromisoformat(entry["time"])
    assert utc.utcoffset() == datetime.timedelta(0)
    assert entry["time_local"] == (utc + datetime.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    store = audit_store(portal)
    records = [store.get(seq) for seq in range(1, store.last_seq + 1)]
    decisions = [r for r in records if r["action"] == "review.decision"]
    assert decisions[-1]["actor"] == "lisi" and decisions[-1]["target"] == "/".join(item.getPhysicalPath())
    assert decisions[-1]["details"]["decision"] == "reject" and decisions[-1]["details"]["comment"] == "材料不全"
    assert any(r["action"] == "review.submit" for r in records)


def test_modules_hear_every_decision_as_an_event(folder):
    heard = []

    def handler(event):
        heard.append((event.decision, event.step["title"] if event.step else None, event.status))

    provideHandler(handler, (review.IReviewDecisionEvent,))
    try:
        item = new_item(folder)
        as_user("zhangsan", review.submit, item, "forum-registration")
        as_user("lisi", review.decide, item, "approve")
    finally:
        from zope.component import getGlobalSiteManager

        getGlobalSiteManager().unregisterHandler(handler, (review.IReviewDecisionEvent,))
    assert heard == [("submit", "预审", "in_review"), ("approve", "预审", "in_review")]


def test_editing_a_chain_does_not_change_items_in_review(folder, portal):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    edited = dict(TWO_STEPS, steps=[{"title": "终审", "group": "content-reviewers", "mode": "any"}])
    assert review.save_chain(edited, portal=portal)["version"] == 2
    assert review.get_chain("forum-registration")["steps"][0]["title"] == "终审"
    as_user("lisi", review.decide, item, "approve")  # still the version-1 chain: 预审 → 部门联审
    assert review.current_step(item)["title"] == "部门联审"
    assert review.info(item)["chain"]["version"] == 1
    later = new_item(folder, "2024 外滩金融峰会报名")
    as_user("zhangsan", review.submit, later, "forum-registration")
    assert review.current_step(later)["title"] == "终审"
    # Saving the same definition again does not create a version.
    assert review.save_chain(edited, portal=portal)["version"] == 2


def test_pending_list_follows_the_step(folder):
    first, second = new_item(folder, "报名一"), new_item(folder, "报名二")
    as_user("zhangsan", review.submit, first, "forum-registration")
    as_user("zhangsan", review.submit, second, "forum-registration")
    as_user("lisi", review.decide, first, "approve")

    def titles(user_id):
        return sorted(b.Title for b in review.pending_for(api.user.get(userid=user_id)))

    assert titles("wangwu") == ["报名二"]
    assert titles("zhaoliu") == ["报名一"] and titles("qianqi") == ["报名一"]
    assert titles("sunba") == [] and titles("zhangsan") == []
    as_user("zhaoliu", review.decide, first, "approve")
    assert titles("zhaoliu") == [] and titles("qianqi") == ["报名一"]  # 会签: zhao is done


def test_overdue_detection(folder):
    item = new_item(folder)
    as_user("zhangsan", review.submit, item, "forum-registration")
    now = datetime.datetime.now(datetime.timezone.utc)
    assert review.overdue(now) == [] and review.overdue(now + datetime.timedelta(days=2)) == []
    late = review.overdue(now + datetime.timedelta(days=3, hours=1))
    assert [(o["uid"], o["step"]["title"]) for o in late] == [(item.UID(), "预审")]
    as_user("lisi", review.decide, item, "approve")  # the next step has its own (5-day) clock
    assert review.overdue(now + datetime.timedelta(days=3, hours=1)) == []
    assert len(review.overdue(now + datetime.timedelta(days=5, hours=1))) == 1


def test_items_without_the_behavior_are_refused(folder, portal):
    with api.env.adopt_roles(["Manager"]):
        news = api.content.create(container=portal, type="News Item", title="新闻")
    with pytest.raises(review.ReviewError):
        review.submit(news, "forum-registration")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"id": "x", "title": "", "steps": [{"title": "a", "group": "office-staff"}]}, "流程名称"),
        ({"id": "Bad Id", "title": "t", "steps": [{"title": "a", "group": "office-staff"}]}, "流程编号"),
        ({"id": "x", "title": "t", "steps": []}, "至少需要一个"),
        ({"id": "x", "title": "t", "steps": [{"title": "a", "group": "no-such-group"}]}, "不存在"),
        ({"id": "x", "title": "t", "steps": [{"title": "a", "group": "office-staff", "mode": "some"}]}, "或签"),
        ({"id": "x", "title": "t", "steps": [{"title": "a", "group": "office-staff", "deadline_days": "0"}]}, "时限"),
    ],
)
def test_bad_chain_definitions_are_refused_in_chinese(folder, portal, data, message):
    with pytest.raises(review.ReviewError) as raised:
        review.save_chain(data, portal=portal)
    assert message in review.t(raised.value.message)
    assert review.get_chain("x") is None


def test_install_is_idempotent_and_adds_the_indexes(portal):
    from finserv.core.review.setup import install_review

    install_review(portal)
    install_review(portal)
    indexes = portal.portal_catalog.indexes()
    assert {"review_status", "review_pending_groups", "review_due"} <= set(indexes)


# --- REST and pages --------------------------------------------------------------------------


def test_review_through_rest_with_the_pending_list_per_user(site, request_factory):
    portal, item = site
    url = item.absolute_url()
    zhang, li, zhao = (request_factory(basic_auth=(u, PASSWORD)) for u in ("zhangsan", "lisi", "zhaoliu"))
    response = zhang.post(f"{url}/@review", json={"action": "submit", "chain": "forum-registration"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_review" and response.json()["step"]["title"] == "预审"

    pending = li.get("/@review-pending").json()
    assert "items_total" in pending, pending
    assert pending["items_total"] == 1 and pending["items"][0]["title"] == "2024 陆家嘴论坛报名"
    assert pending["items"][0]["step"]["title"] == "预审"
    assert zhao.get("/@review-pending").json()["items_total"] == 0
    assert zhao.get(f"{url}/@review").status_code in (401, 403)  # not visible before its step

    state = li.get(f"{url}/@review").json()
    assert state["actions"] == ["approve", "return", "reject"]
    response = li.post(f"{url}/@review", json={"action": "approve", "comment": "材料齐全", "ticket": state["ticket"]})
    assert response.status_code == 200 and response.json()["step"]["title"] == "部门联审"
    assert li.get("/@review-pending").json()["items_total"] == 0
    assert zhao.get("/@review-pending").json()["items"][0]["UID"] == item.UID()

    stale = request_factory(basic_auth=("wangwu", PASSWORD)).post(f"{url}/@review", json={"action": "approve", "ticket": state["ticket"]})
    assert stale.status_code in (401, 403)  # wangwu lost the item with the step (409 when still visible: see above)
    denied = request_factory(basic_auth=("sunba", PASSWORD)).post(f"{url}/@review", json={"action": "approve"})
    assert denied.status_code in (401, 403)

    history = zhang.get(f"{url}/@review").json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [("submit", "zhangsan"), ("approve", "lisi")]
    assert history[1]["comment"] == "材料齐全" and history[1]["action_title"] == "同意"


def test_the_applicant_is_told_of_every_decision_by_email(site, request_factory):
    portal, item = site
    url = item.absolute_url()
    request_factory(basic_auth=("zhangsan", PASSWORD)).post(f"{url}/@review", json={"action": "submit", "chain": "forum-registration"})
    request_factory(basic_auth=("lisi", PASSWORD)).post(f"{url}/@review", json={"action": "return", "comment": "请补充营业执照"})
    transaction.begin()
    outbox = notify_store(portal).outbox
    messages = [outbox[k] for k in outbox.keys()]
    to_applicant = [m for m in messages if m["recipient"] == "zhangsan@example.cn"]
    assert [m["template"] for m in to_applicant] == ["email_review_decision", "email_review_decision"]
    assert "退回修改" in to_applicant[-1]["subject"] and "请补充营业执照" in to_applicant[-1]["body"]
    assert {m["recipient"] for m in messages if m["template"] == "email_review_task"} == {"lisi@example.cn", "wangwu@example.cn"}


@pytest.mark.parametrize(
    "user, body, message",
    [
        ("zhangsan", {"action": "submit", "chain": "no-such-chain"}, "不存在"),
        ("zhangsan", {"action": "publish"}, "未知的审批操作"),
        ("zhangsan", {"action": ""}, "未知的审批操作"),
        ("lisi", {"action": "return", "comment": ""}, "必须填写审批意见"),
        ("lisi", {"action": "reject"}, "必须填写审批意见"),
        ("lisi", {"action": "approve", "comment": ["x"]}, "文字"),
    ],
)
def test_bad_input_answers_400_in_chinese_and_changes_nothing(site, request_factory, user, body, message):
    portal, item = site
    url = item.absolute_url()
    if user == "lisi":
        request_factory(basic_auth=("zhangsan", PASSWORD)).post(f"{url}/@review", json={"action": "submit", "chain": "forum-registration"})
    transaction.begin()
    before = (review.status(item), len(review.history(item)), audit_store(portal).last_seq)
    response = request_factory(basic_auth=(user, PASSWORD)).post(f"{url}/@review", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    transaction.begin()
    assert (review.status(item), len(review.history(item)), audit_store(portal).last_seq) == before


def test_site_managers_define_chains_through_rest(site, manager_request, request_factory):
    response = manager_request.post("/@review-chains", json={
        "id": "talent-application", "title": "人才申报审核",
        "steps": [{"title": "初审", "group": "office-staff", "deadline_days": 5}, {"title": "复审", "group": "content-reviewers", "mode": "all"}],
    })
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 1
    chains = {c["id"]: c for c in manager_request.get("/@review-chains").json()["items"]}
    assert [s["title"] for s in chains["talent-application"]["steps"]] == ["初审", "复审"]
    bad = manager_request.post("/@review-chains", json={"id": "x", "title": "t", "steps": [{"title": "a", "group": "nobody"}]})
    assert bad.status_code == 400 and "不存在" in bad.json()["message"]
    member = request_factory(basic_auth=("lisi", PASSWORD))
    assert member.get("/@review-chains").status_code in (401, 403)
    assert member.post("/@review-chains", json={"id": "y"}).status_code in (401, 403)


def _token(page):
    import re

    return re.search(r'name="_authenticator" value="([^"]+)"', page).group(1)


def test_chains_page_creates_and_versions_a_chain(site, request_factory):
    browser = request_factory(role="Manager", api=False)
    page = browser.get("/@@review-chains")
    assert page.status_code == 200 and "审批流程" in page.text and "论坛报名审核" in page.text
    form = {
        "_authenticator": _token(page.text), "chain_id": "support-award", "title": "扶持资金审核",
        "step_title:list": ["预审", "部门联审", ""], "step_group:list": ["office-staff", "dept-joint", "office-staff"],
        "step_mode:list": ["any", "all", "any"], "step_deadline:list": ["3", "", ""],
        "step_return:list": ["applicant", "previous", "applicant"],
    }
    saved = browser.post("/@@review-chains", data=form)
    assert saved.status_code == 200 and "第 1 版" in saved.text
    form["title"] = "扶持资金审核（2025）"
    assert "第 2 版" in browser.post("/@@review-chains", data=form).text
    transaction.begin()
    chain = review.get_chain("support-award", portal=site[0])
    assert chain["version"] == 2 and [s["mode"] for s in chain["steps"]] == ["any", "all"]
    assert chain["steps"][1]["return_to"] == "previous" and chain["steps"][0]["deadline_days"] == 3
    edit = browser.get("/@@review-chains?edit=support-award").text
    assert 'value="support-award"' in edit and "扶持资金审核（2025）" in edit
    del form["_authenticator"]
    assert browser.post("/@@review-chains", data=dict(form, title="无令牌")).status_code == 403


def test_review_page_shows_buttons_to_reviewers_and_needs_a_csrf_token(site, request_factory):
    portal, item = site
    url = item.absolute_url()
    request_factory(basic_auth=("zhangsan", PASSWORD)).post(f"{url}/@review", json={"action": "submit", "chain": "forum-registration"})
    browser = request_factory(basic_auth=("lisi", PASSWORD), api=False)
    page = browser.get(f"{url}/@@review")
    assert page.status_code == 200
    assert "审批中" in page.text and "同意" in page.text and "退回修改" in page.text and "预审" in page.text
    assert browser.post(f"{url}/@@review", data={"action": "approve"}).status_code == 403  # no token
    refused = browser.post(f"{url}/@@review", data={"action": "return", "_authenticator": _token(page.text)})
    assert "必须填写审批意见" in refused.text
    done = browser.post(f"{url}/@@review", data={"action": "approve", "comment": "同意", "_authenticator": _token(page.text)})
    assert done.status_code == 200 and done.url.endswith("/@@review-pending")  # the item left lisi's step
    transaction.begin()
    assert review.current_step(item)["title"] == "部门联审"
    queue = request_factory(basic_auth=("zhaoliu", PASSWORD), api=False).get("/@@review-pending")
    assert queue.status_code == 200 and "2024 陆家嘴论坛报名" in queue.text and "部门联审" in queue.text
