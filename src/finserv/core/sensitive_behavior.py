"""Behavior: a person's or organisation's sensitive contact data, stored encrypted."""

from finserv import _
from finserv.core.sensitive import EncryptedTextLine
from finserv.core.sensitive import sensitive_adapter
from plone.autoform.interfaces import IFormFieldProvider
from plone.supermodel import model
from zope.interface import provider


@provider(IFormFieldProvider)
class ISensitiveContact(model.Schema):
    """身份证号, mobile and bank account — encrypted at rest, masked when shown."""

    model.fieldset(
        "personal",
        label=_("fieldset_personal", default="个人敏感信息"),
        fields=["id_number", "mobile", "bank_account"],
    )

    id_number = EncryptedTextLine(
        kind="id_number",
        title=_("label_id_number", default="身份证号"),
        required=False,
    )
    mobile = EncryptedTextLine(
        kind="mobile",
        title=_("label_mobile", default="手机号码"),
        required=False,
    )
    bank_account = EncryptedTextLine(
        kind="bank_account",
        title=_("label_bank_account", default="银行账号"),
        required=False,
    )


# Assignments through the behavior (forms, REST, plone.api.content.create) are sealed.
SensitiveContact = sensitive_adapter(ISensitiveContact, "SensitiveContact")
