"""E-mail templates of review, registered with notify so managers can edit them at
``@@notify-templates``."""

from finserv.core.notify.templates import register_template

TEMPLATES = {
    "email_review_decision": {
        "channel": "email",
        "title": "审批结果通知（申请人）",
        "subject": "【${site_title}】“${title}”${decision_title}",
        "body": (
            "${fullname}，您好：\n\n"
            "您提交的“${title}”在“${step_title}”环节${decision_title}（${actor_name}，${time}）。\n"
            "当前状态：${status_title}\n"
            "审批意见：${comment}\n\n"
            "查看详情：${url}\n"
        ),
    },
    "email_review_task": {
        "channel": "email",
        "title": "待审批提醒（审批人）",
        "subject": "【${site_title}】待您审批：${title}",
        "body": (
            "${fullname}，您好：\n\n"
            "“${title}”已进入“${step_title}”环节，等待您审批${due_text}。\n\n"
            "办理入口：${url}\n"
        ),
    },
}


def register_templates():
    for name, template in TEMPLATES.items():
        register_template(name, template)


register_templates()
