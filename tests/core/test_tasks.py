"""tasks: long work with a progress bar, run after commit, in its own transaction, as its owner.

These tests commit (the functional layer gives each test a fresh database) and wait for the
background threads of the embedded runner with ``runner.wait_all``.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time

import pytest
import transaction
from openpyxl import Workbook
from openpyxl import load_workbook
from plone import api
from plone.app.testing import SITE_OWNER_NAME
from plone.app.testing import SITE_OWNER_PASSWORD
from plone.app.testing import login
from plone.app.testing import logout
from ZODB.POSException import ConflictError
from zope.component.hooks import getSite
from zope.component.hooks import setSite

from finserv.core.tasks import DONE
from finserv.core.tasks import FAILED
from finserv.core.tasks import FileResult
from finserv.core.tasks import RUNNING
from finserv.core.tasks import TaskFailed
from finserv.core.tasks import get_record
from finserv.core.tasks import queue
from finserv.core.tasks import runner
from finserv.core.tasks import task

PASSWORD = "Secret-pass-2024!"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CALLS: list = []
HOLD = {"reached": threading.Event(), "release": threading.Event()}


@task("test.make_document", title="测试：创建文档")
def make_document(context, progress, title="报告"):
    CALLS.append(
        {
            "thread": threading.get_ident(),
            "transaction": id(transaction.get()),
            "user": api.user.get_current().getId(),
        }
    )
    with api.env.adopt_roles(["Manager"]):
        api.content.create(container=context, type="Document", id="task-made", title=title)
    return FileResult("报告.txt", f"{title}：完成".encode(), "text/plain; charset=utf-8", summary={"title": title})


@task("test.hold", title="测试：分批处理")
def hold(context, progress):
    progress(40, "正在处理第 2 批（共 5 批）", force=True)
    HOLD["reached"].set()
    assert HOLD["release"].wait(20)
    progress(80, "正在处理第 4 批（共 5 批）")
    return {"batches": 5}


@task("test.fail", title="测试：失败")
def fail(context, progress, crash=False):
    context.fail_marker = "written before the failure"  # must not be saved
    if crash:
        raise RuntimeError("boom")
    raise TaskFailed("第 3 行的统一社会信用代码校验位不正确，未导入任何数据。")


@task("test.conflict", title="测试：并发冲突")
def conflicting(context, progress):
    CALLS.append("attempt")
    context.task_counter = getattr(context, "task_counter", 0) + 1
    if len(CALLS) < 3:
        # another writer changes the same object and commits first: our commit must conflict
        tm = transaction.TransactionManager()
        other = context._p_jar.db().open(transaction_manager=tm)
        tm.begin()
        other.root()["Application"][context.getId()].concurrent_write = len(CALLS)
        tm.commit()
        other.close()
    return {"counter": context.task_counter}


@pytest.fixture
def site(functional_portal, monkeypatch):
    previous = getSite()
    setSite(functional_portal)
    monkeypatch.setattr(runner, "BACKOFF", 0.01)
    monkeypatch.delenv("FINSERV_CELERY_BROKER", raising=False)
    CALLS.clear()
    for event in HOLD.values():
        event.clear()
    for name in ("alice", "bob"):
        api.user.create(email=f"{name}@example.cn", username=name, password=PASSWORD)
    transaction.commit()
    login(functional_portal, "alice")
    yield functional_portal
    HOLD["release"].set()
    runner.wait_all(20)
    logout()
    setSite(previous)


def finished(portal, task_id, timeout=20):
    assert runner.wait_all(timeout), "task still running"
    transaction.begin()
    return get_record(portal, task_id)


@pytest.fixture
def alice(request_factory):
    return request_factory(basic_auth=("alice", PASSWORD))


@pytest.fixture
def bob(request_factory):
    return request_factory(basic_auth=("bob", PASSWORD))


# --- when and how a task runs ------------------------------------------------------------------


def test_a_task_queued_in_an_aborted_transaction_never_runs(site):
    task_id = queue("test.make_document", site)
    transaction.abort()
    assert runner.wait_all(5)
    transaction.begin()
    assert CALLS == [] and get_record(site, task_id) is None and "task-made" not in site


def test_a_task_runs_after_commit_in_its_own_transaction_as_the_user_who_queued_it(site):
    task_id = queue("test.make_document", site, title="季度报告")
    assert CALLS == []  # nothing before the commit
    request_thread, request_transaction = threading.get_ident(), id(transaction.get())
    transaction.commit()
    record = finished(site, task_id)
    assert record.status == DONE and record.percent == 100
    assert len(CALLS) == 1
    assert CALLS[0]["thread"] != request_thread and CALLS[0]["transaction"] != request_transaction
    assert CALLS[0]["user"] == "alice"  # the security context of the queueing user
    assert site["task-made"].title == "季度报告"  # its writes committed
    assert record.summary == {"title": "季度报告"} and record.owner == "alice"
    assert record.created <= record.started <= record.finished


def test_the_result_is_downloadable_by_its_owner_only(site, alice, bob, anon_request, request_factory):
    task_id = queue("test.make_document", site, title="季度报告")
    transaction.commit()
    finished(site, task_id)
    portal_url = site.absolute_url()
    browser = request_factory(api=False, basic_auth=("alice", PASSWORD))
    answer = browser.get(f"/@@task-result?id={task_id}")
    assert answer.status_code == 200 and answer.content.decode() == "季度报告：完成"
    assert "attachment" in answer.headers["Content-Disposition"]
    info = alice.get(f"/@tasks/{task_id}").json()
    assert info["result"]["download"] == f"{portal_url}/@@task-result?id={task_id}"
    # someone else, anonymous, a made-up id
    other = request_factory(api=False, basic_auth=("bob", PASSWORD))
    assert other.get(f"/@@task-result?id={task_id}").status_code == 403
    assert bob.get(f"/@tasks/{task_id}").status_code == 403
    assert anon_request.get(f"/@tasks/{task_id}").status_code == 401
    assert alice.get("/@tasks/0123456789abcdef0123").status_code == 404
    # a Manager may look
    manager = request_factory(api=False, basic_auth=(SITE_OWNER_NAME, SITE_OWNER_PASSWORD))
    assert manager.get(f"/@@task-result?id={task_id}").status_code == 200


def test_progress_percent_and_message_are_visible_over_rest_while_it_runs(site, alice, bob):
    task_id = queue("test.hold", site)
    transaction.commit()
    assert HOLD["reached"].wait(10)
    info = alice.get(f"/@tasks/{task_id}").json()
    assert info["status"] == RUNNING and info["status_title"] == "进行中"
    assert info["percent"] == 40 and info["message"] == "正在处理第 2 批（共 5 批）"
    assert info["title"] == "测试：分批处理" and info["result"] is None
    # my tasks: alice sees it, bob does not
    assert [t["id"] for t in alice.get("/@tasks").json()["items"]] == [task_id]
    assert bob.get("/@tasks").json()["items"] == []
    HOLD["release"].set()
    finished(site, task_id)
    info = alice.get(f"/@tasks/{task_id}").json()
    assert info["status"] == DONE and info["percent"] == 100 and info["summary"] == {"batches": 5}


def test_the_progress_page_shows_a_bar_that_polls_and_survives_leaving_and_coming_back(site, request_factory):
    task_id = queue("test.hold", site)
    transaction.commit()
    assert HOLD["reached"].wait(10)
    browser = request_factory(api=False, basic_auth=("alice", PASSWORD))
    page = browser.get(f"/@@task-progress?id={task_id}")
    assert page.status_code == 200
    assert 'class="progress' in page.text and 'style="width: 40%"' in page.text
    assert "正在处理第 2 批（共 5 批）" in page.text and f"/++api++/@tasks/{task_id}" in page.text
    assert "setTimeout(poll, 1000)" in page.text
    mine = browser.get("/@@my-tasks")
    assert mine.status_code == 200 and f"@@task-progress?id={task_id}" in mine.text and "测试：分批处理" in mine.text
    other = request_factory(api=False, basic_auth=("bob", PASSWORD))
    assert other.get(f"/@@task-progress?id={task_id}").status_code == 403
    assert browser.get("/@@task-progress?id=nope").status_code == 404
    HOLD["release"].set()


def test_a_failing_task_shows_a_chinese_reason_and_saves_nothing(site, alice, request_factory):
    task_id = queue("test.fail", site)
    crash_id = queue("test.fail", site, crash=True)
    transaction.commit()
    record = finished(site, task_id)
    assert record.status == FAILED and record.error == "第 3 行的统一社会信用代码校验位不正确，未导入任何数据。"
    assert not hasattr(site, "fail_marker")
    crashed = get_record(site, crash_id)
    assert crashed.status == FAILED and "内部错误（RuntimeError）" in crashed.error
    info = alice.get(f"/@tasks/{task_id}").json()
    assert info["status_title"] == "失败" and info["error"].startswith("第 3 行")
    page = request_factory(api=False, basic_auth=("alice", PASSWORD)).get(f"/@@task-progress?id={task_id}")
    assert "任务失败：" in page.text and "校验位不正确" in page.text


def test_a_conflict_error_is_retried_and_the_task_completes_once(site):
    task_id = queue("test.conflict", site)
    transaction.commit()
    record = finished(site, task_id)
    assert record.status == DONE
    assert CALLS == ["attempt"] * 3  # two real ConflictErrors, then success
    assert record.attempts == 3
    assert site.task_counter == 1  # the aborted attempts left nothing behind
    assert record.summary == {"counter": 1}


def test_conflict_retries_give_up_with_a_chinese_reason(site, monkeypatch):
    monkeypatch.setattr(runner, "MAX_ATTEMPTS", 2)
    task_id = queue("test.conflict", site)
    transaction.commit()
    record = finished(site, task_id)
    assert record.status == FAILED and "重试 2 次后仍未完成" in record.error
    assert not hasattr(site, "task_counter")


def test_the_in_process_runner_does_not_block_the_request(site):
    task_id = queue("test.hold", site)
    started = time.monotonic()
    transaction.commit()  # the after-commit hook starts the task and returns
    assert time.monotonic() - started < 2
    assert HOLD["reached"].wait(10)
    transaction.begin()
    assert get_record(site, task_id).status == RUNNING  # still running: the request did not wait
    HOLD["release"].set()
    assert finished(site, task_id).status == DONE


def test_a_redelivered_task_does_not_run_twice(site):
    task_id = queue("test.make_document", site)
    transaction.commit()
    finished(site, task_id)
    assert runner.run_isolated(site._p_jar.db(), site.getId(), task_id) == DONE
    assert len(CALLS) == 1


def test_parameters_must_be_json(site):
    import datetime

    with pytest.raises(TypeError):
        queue("test.make_document", site, title=datetime.date.today())
    with pytest.raises(KeyError):
        queue("no.such.task", site)
    logout()
    from AccessControl import Unauthorized

    with pytest.raises(Unauthorized):
        queue("test.make_document", site)
    transaction.abort()


# --- Celery ----------------------------------------------------------------------------------


def test_with_a_broker_celery_sends_json_only_and_the_worker_runs_the_task(site, monkeypatch):
    from kombu.serialization import dumps

    from finserv.core.tasks import celery

    assert celery.app.conf.task_serializer == "json" and celery.app.conf.accept_content == ["json"]
    sent = []
    original = celery.send

    def capture(*args):
        content_type, encoding, body = dumps(celery.message_args(*args), serializer="json")
        assert content_type == "application/json"
        sent.append(json.loads(body))
        return original(*args)

    monkeypatch.setenv("FINSERV_CELERY_BROKER", "memory://")
    monkeypatch.setattr(celery, "send", capture)
    celery.app.conf.task_always_eager = True
    celery.set_worker_db(site._p_jar.db())
    try:
        task_id = queue("test.make_document", site, title="经由 Celery")
        transaction.commit()
    finally:
        celery.app.conf.task_always_eager = False
        celery.set_worker_db(None)
    assert sent == [[site.getId(), task_id, "test.make_document", "/plone", "alice", {"title": "经由 Celery"}]]
    record = finished(site, task_id)
    assert record.status == DONE and site["task-made"].title == "经由 Celery"
    assert CALLS[0]["user"] == "alice"


def test_with_a_broker_that_is_down_the_task_fails_with_a_chinese_reason(site, monkeypatch):
    from finserv.core.tasks import celery

    def down(*args):
        raise OSError("connection refused")

    monkeypatch.setenv("FINSERV_CELERY_BROKER", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery, "send", down)
    task_id = queue("test.make_document", site)
    transaction.commit()
    record = finished(site, task_id)
    assert record.status == FAILED and "任务队列暂时不可用" in record.error and CALLS == []


def test_with_a_real_redis_the_message_reaches_the_queue(site, monkeypatch):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        client.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379 (the cluster tests cover the real worker)")
    from finserv.core.tasks import celery

    client.delete("finserv")
    monkeypatch.setattr(celery.app.conf, "broker_url", url)
    celery.app.pool.force_close_all() if hasattr(celery.app, "_pool") and celery.app._pool else None
    monkeypatch.setenv("FINSERV_CELERY_BROKER", url)
    task_id = queue("test.make_document", site)
    transaction.commit()
    message = json.loads(client.lpop("finserv"))
    assert message["headers"]["task"] == "finserv.tasks.run"
    assert message["content-type"] == "application/json"
    client.delete("finserv")
    transaction.begin()
    assert get_record(site, task_id).status == "queued"


# --- the import-users page, end to end over HTTP -----------------------------------------------


def xlsx(rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _token(page):
    return re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)


def _upload(browser, data, filename="新用户.xlsx"):
    page = browser.get("/@@import-users")
    return browser.post(
        "/@@import-users",
        data={"form.upload": "1", "_authenticator": _token(page)},
        files={"file": (filename, data, XLSX)},
        allow_redirects=False,
    )


def test_import_users_page_end_to_end_with_template_error_report_and_export(site, request_factory):
    api.group.create(groupname="analysts", title="风险分析组")
    transaction.commit()
    manager = request_factory(api=False, basic_auth=(SITE_OWNER_NAME, SITE_OWNER_PASSWORD))
    page = manager.get("/@@import-users")
    assert page.status_code == 200 and "下载导入模板" in page.text and "开始导入" in page.text

    template = manager.get("/@@import-users-template")
    assert template.status_code == 200 and template.headers["Content-Type"] == XLSX
    wb = load_workbook(io.BytesIO(template.content))
    assert [c.value for c in wb.worksheets[0][1]] == ["用户名", "姓名", "邮箱", "手机号码", "用户组"]

    # a file with one bad row: nothing is created, the error report names row, column and reason
    sheet = wb.worksheets[0]
    sheet.append(["zhangsan", "张三", "zhangsan@example.cn", "13800138000", "风险分析组"])
    sheet.append(["lisi", "李四", "lisi-at-example.cn", "13900139000", "不存在的组"])
    buffer = io.BytesIO()
    wb.save(buffer)
    answer = _upload(manager, buffer.getvalue())
    assert answer.status_code == 302 and "@@task-progress?id=" in answer.headers["Location"]
    task_id = answer.headers["Location"].split("id=")[1]
    record = finished(site, task_id)
    assert record.status == FAILED and "所有数据均未导入" in record.error
    assert api.user.get(username="zhangsan") is None
    progress_page = manager.get(f"/@@task-progress?id={task_id}")
    assert "下载错误报告" in progress_page.text and "-错误报告.xlsx" in progress_page.text
    report = manager.get(f"/@@task-result?id={task_id}")
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(report.content)).worksheets[0].iter_rows()]
    assert rows[0] == ["用户名", "姓名", "邮箱", "手机号码", "用户组", "错误原因"]
    assert rows[1][:2] == ["lisi", "李四"]
    assert "第 4 行「邮箱」：邮箱格式不正确" in rows[1][5] and "用户组不存在：不存在的组" not in rows[1][5]

    # the corrected file: both users created, in their group
    data = xlsx(
        [
            ["用户名", "姓名", "邮箱", "手机号码", "用户组"],
            ["zhangsan", "张三", "zhangsan@example.cn", "13800138000", "风险分析组"],
            ["lisi", "李四", "lisi@example.cn", None, "analysts"],
        ]
    )
    answer = _upload(manager, data)
    task_id = answer.headers["Location"].split("id=")[1]
    record = finished(site, task_id)
    assert record.status == DONE, record.error
    assert record.summary["created"] == 2
    zhangsan = api.user.get(username="zhangsan")
    assert zhangsan.getProperty("fullname") == "张三" and zhangsan.getProperty("mobile") == "13800138000"
    assert "analysts" in [g.getId() for g in api.group.get_groups(username="lisi")]

    # export: every user, in an xlsx the manager downloads
    page = manager.get("/@@import-users")
    answer = manager.post(
        "/@@import-users", data={"form.export": "1", "_authenticator": _token(page)}, allow_redirects=False
    )
    task_id = answer.headers["Location"].split("id=")[1]
    assert finished(site, task_id).status == DONE
    exported = load_workbook(io.BytesIO(manager.get(f"/@@task-result?id={task_id}").content)).worksheets[0]
    by_name = {row[0]: row for row in exported.iter_rows(min_row=2, values_only=True)}
    assert by_name["zhangsan"][1:5] == ("张三", "zhangsan@example.cn", "13800138000", "analysts")


def test_import_users_refuses_wrong_files_in_chinese_and_members(site, request_factory):
    manager = request_factory(api=False, basic_auth=(SITE_OWNER_NAME, SITE_OWNER_PASSWORD))
    answer = _upload(manager, b"username,fullname\n", filename="users.csv")
    assert answer.status_code == 400 and "只能上传 .xlsx 格式的 Excel 文件" in answer.text
    answer = _upload(manager, xlsx([["用户名", "姓名", "年龄"], ["a", "b", 3]]))
    assert answer.status_code == 400 and "缺少列：邮箱。" in answer.text and "无法识别的列：年龄。" in answer.text
    answer = _upload(manager, b"not really a workbook")
    assert answer.status_code == 400 and "不是有效的 .xlsx 文件" in answer.text
    member = request_factory(api=False, basic_auth=("alice", PASSWORD))
    assert member.get("/@@import-users", allow_redirects=False).status_code in (302, 401, 403)


def test_only_managers_may_import_users_into_the_administrators_group(site, request_factory):
    # Plone gives "Manage users" to Managers only; a site that also grants it to another role
    # (here Editor) must not let its holders create administrators through the import.
    site.manage_permission("Manage users", ["Manager", "Editor"], acquire=True)
    api.user.grant_roles(username="bob", roles=["Editor"])
    transaction.commit()
    editor = request_factory(api=False, basic_auth=("bob", PASSWORD))
    data = xlsx([["用户名", "姓名", "邮箱", "用户组"], ["mallory", "某人", "m@example.cn", "Administrators"]])
    answer = _upload(editor, data)
    task_id = answer.headers["Location"].split("id=")[1]
    record = finished(site, task_id)
    assert record.status == FAILED and api.user.get(username="mallory") is None
    assert "无权将用户加入管理员用户组：Administrators" in json.dumps(record.summary, ensure_ascii=False)
