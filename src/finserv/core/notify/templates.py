"""Message templates: Chinese defaults in code, overridden through the web (@@notify-templates).

Placeholders use ``${name}`` (:class:`string.Template`). Every template gets ``site_title``;
callers pass the rest (``code``, ``minutes``, ``fullname`` ...).
"""

from __future__ import annotations

from string import Template

from finserv import _
from zope.i18nmessageid import Message

# name → channel, title (for the editor), subject (e-mail only), body
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "sms_login_code": {
        "channel": "sms",
        "title": "短信登录验证码",
        "subject": "",
        "body": "【${site_title}】您的登录验证码为 ${code}，${minutes} 分钟内有效。如非本人操作，请忽略本短信。",
    },
    "sms_twofactor_code": {
        "channel": "sms",
        "title": "双因素认证短信验证码",
        "subject": "",
        "body": "【${site_title}】您正在登录，身份验证码为 ${code}，${minutes} 分钟内有效，请勿告知他人。",
    },
    "sms_reset_code": {
        "channel": "sms",
        "title": "短信重置密码验证码",
        "subject": "",
        "body": "【${site_title}】您正在重置登录密码，验证码为 ${code}，${minutes} 分钟内有效。如非本人操作，请立即联系管理员。",
    },
    "email_reset_code": {
        "channel": "email",
        "title": "邮件重置密码验证码",
        "subject": "【${site_title}】重置密码验证码",
        "body": (
            "${fullname}，您好：\n\n"
            "您正在重置 ${site_title} 的登录密码，验证码为：${code}\n"
            "验证码 ${minutes} 分钟内有效，仅可使用一次。\n\n"
            "如非本人操作，请忽略本邮件并尽快联系管理员。\n"
        ),
    },
    "email_password_changed": {
        "channel": "email",
        "title": "密码已修改提醒",
        "subject": "【${site_title}】您的登录密码已修改",
        "body": (
            "${fullname}，您好：\n\n"
            "您在 ${site_title} 的登录密码已于 ${time} 修改。\n"
            "如非本人操作，请立即通过“忘记密码”重置密码并联系管理员。\n"
        ),
    },
}

MSG_UNKNOWN_TEMPLATE = _("notify_unknown_template", default="未知的消息模板：${name}")
MSG_BAD_PLACEHOLDER = _("notify_bad_placeholder", default="模板“${name}”的占位符写法有误，请使用 ${example} 的形式")


class TemplateError(ValueError):
    """A template is unknown or cannot be rendered (message is a translatable Chinese text)."""


def register_template(name: str, template: dict[str, str]) -> None:
    """Add a module's default template (channel, title, subject, body); editable through the
    web like the others. An existing template of the same name is kept."""
    DEFAULT_TEMPLATES.setdefault(name, dict(template))


def template_names() -> list[str]:
    return list(DEFAULT_TEMPLATES)


def get_template(name: str, store=None) -> dict[str, str]:
    """The effective template *name*: the through-the-web version if there is one."""
    if name not in DEFAULT_TEMPLATES:
        raise TemplateError(Message(MSG_UNKNOWN_TEMPLATE, mapping={"name": name}))
    result = dict(DEFAULT_TEMPLATES[name])
    if store is not None:
        edited = store.templates.get(name)
        if edited:
            result.update({k: v for k, v in edited.items() if k in ("subject", "body")})
            result["edited"] = True
    return result


def check_template_text(name: str, text: str) -> None:
    """Raise TemplateError if *text* has a malformed placeholder (e.g. ``${code``)."""
    if not Template(text).is_valid():
        raise TemplateError(Message(MSG_BAD_PLACEHOLDER, mapping={"name": name, "example": "${code}"}))


def render_text(text: str, variables: dict) -> str:
    return Template(text).safe_substitute({k: "" if v is None else str(v) for k, v in variables.items()})
