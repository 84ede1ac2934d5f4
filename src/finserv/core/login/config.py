"""Settings of login security: registry records ``finserv.login.*`` with their defaults.

The install step creates the records; site managers change them in the registry
(``@@configuration_registry``) — changing ``session_idle_minutes`` or ``jwt_timeout_minutes``
takes effect when the profile's install steps run again (they are copied onto the PAS plugins).
"""

from __future__ import annotations

from plone.registry import field
from plone.registry.interfaces import IRegistry
from zope.component import queryUtility

PREFIX = "finserv.login."

STAFF_GROUPS = [
    "sys-admins",
    "office-staff",
    "content-editors",
    "content-reviewers",
    "district-*",
]
STAFF_ROLES = ["Manager", "Site Administrator"]

# name: (field factory, default, title, description)
SETTINGS = {
    "password_min_length": (field.Int, 10, "密码最小长度", "新密码至少包含的字符数。"),
    "password_min_classes": (
        field.Int,
        3,
        "密码字符类别数",
        "大写字母、小写字母、数字、特殊字符四类中至少包含的类别数。",
    ),
    "password_history": (field.Int, 5, "密码历史", "新密码不得与最近几次使用过的密码相同。"),
    "lockout_threshold": (field.Int, 5, "锁定阈值", "连续登录失败多少次后锁定账号。"),
    "lockout_minutes": (field.Int, 15, "锁定时长（分钟）", "账号锁定后自动解锁前的分钟数。"),
    "code_minutes": (field.Int, 5, "验证码有效期（分钟）", "短信、邮件验证码的有效分钟数。"),
    "code_max_attempts": (field.Int, 5, "验证码尝试次数", "同一验证码最多可尝试的次数。"),
    "sms_interval_seconds": (field.Int, 60, "短信发送间隔（秒）", "同一手机号两次发送验证码的最小间隔。"),
    "sms_daily_limit": (field.Int, 10, "每日短信上限", "同一手机号每天最多发送的验证码条数。"),
    "twofactor_groups": (
        lambda **kw: field.List(value_type=field.TextLine(), **kw),
        STAFF_GROUPS,
        "须双因素认证的用户组",
        "这些组（以 * 结尾表示前缀）的成员登录时必须完成双因素认证。",
    ),
    "twofactor_roles": (
        lambda **kw: field.List(value_type=field.TextLine(), **kw),
        STAFF_ROLES,
        "须双因素认证的角色",
        "拥有这些全局角色的用户登录时必须完成双因素认证。",
    ),
    "session_idle_minutes": (
        field.Int,
        30,
        "会话空闲超时（分钟）",
        "网页登录会话无操作多少分钟后失效（plone.session 票据超时）。",
    ),
    "jwt_timeout_minutes": (field.Int, 120, "JWT 有效期（分钟）", "REST API 令牌（JWT）的有效分钟数。"),
}


def setting(name: str):
    """The current value of setting *name* (the default if the record is missing)."""
    default = SETTINGS[name][1]
    registry = queryUtility(IRegistry)
    if registry is None:
        return default
    value = registry.get(PREFIX + name, None)
    return default if value is None else value


def register_settings(registry) -> None:
    """Create the missing ``finserv.login.*`` records (existing values are kept)."""
    from plone.registry.record import Record

    for name, (factory, default, title, description) in SETTINGS.items():
        key = PREFIX + name
        if key in registry.records:
            continue
        registry.records[key] = Record(
            factory(title=title, description=description, required=False),
            list(default) if isinstance(default, list) else default,
        )
