"""A reader opens the home page, searches a policy in Chinese and opens it (desktop and phone)."""

from pathlib import Path

SHOTS = Path(__file__).parents[2] / "test-results"


def test_home_search_and_open_policy(page, site_url):
    SHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    page.goto(site_url)
    assert page.locator("h1.fs-hero-title").inner_text() == "上海金融综合服务平台"
    assert page.locator(".fs-panel-policies li").count() > 0
    # one navigation entry per area of the platform (behind the menu button on a phone)
    for area in ("政策文件", "通知公告", "金融论坛", "人才实践基地", "扶持政策申报", "融资服务", "风险补偿", "技术合同登记"):
        assert page.locator(f"#portal-globalnav a:has-text('{area}')").count() == 1
    page.screenshot(path=str(SHOTS / f"home-{width}.png"), full_page=True)

    page.fill("#fs-q", "人才奖")
    page.click(".fs-search button[type=submit]")
    page.wait_for_url("**/policies?q=*")
    page.wait_for_load_state()
    results = page.locator(".fs-results li")
    assert results.count() >= 1
    assert results.first.locator(".fs-result-title").inner_text() == "上海金融人才奖评审办法"
    assert "共 1 条" in page.locator(".fs-count").inner_text().replace("\u00a0", " ")
    page.screenshot(path=str(SHOTS / f"results-{width}.png"), full_page=True)

    results.first.locator(".fs-result-title").click()
    page.wait_for_url("**/policies/rencaijiang-pingshen-banfa")
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text() == "上海金融人才奖评审办法"
    facts = page.locator(".fs-facts").inner_text()
    assert "沪金规〔2024〕3号" in facts
    assert "中共上海市委金融委员会办公室" in facts
    assert page.locator(".fs-interpretation a").inner_text() == "《上海金融人才奖评审办法》政策解读"
    page.screenshot(path=str(SHOTS / f"policy-{width}.png"), full_page=True)


def test_filtering_by_level_and_seeing_a_clear_error(page, site_url):
    page.goto(f"{site_url}/policies")
    page.select_option("#fs-level", "district")
    page.click(".fs-filter-submit button")
    page.wait_for_url("**level=district**")
    page.wait_for_load_state()
    titles = page.locator(".fs-result-title").all_inner_texts()
    assert titles and all(("浦东" in t or "徐汇" in t) for t in titles)
    page.goto(f"{site_url}/policies?date_from=2024-13-45")
    assert "YYYY-MM-DD" in page.locator(".alert-danger").inner_text()


def test_expired_policy_is_in_the_archive_not_the_current_list(page, site_url):
    page.goto(f"{site_url}/policies?q=绿色金融")
    assert page.locator(".fs-result-title").count() == 0
    page.goto(f"{site_url}/policies?q=绿色金融&status=archived")
    assert page.locator(".fs-result-title").first.inner_text() == "上海市绿色金融发展实施方案"
