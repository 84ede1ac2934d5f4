"""Encrypted personal fields: 身份证号, mobile numbers, bank accounts, credit codes.

A schema field of type :class:`EncryptedTextLine` stores only an :class:`EncryptedValue` in
the ZODB: the SM4-GCM token (bound by its AAD to the record's UID and the field name) and an
HMAC-SM3 blind index for exact-match search. Everyone reads the masked value
(310***********1234, 138****5678); the full value is revealed only to holders of
"finserv: Reveal personal data", one explicit request at a time, and every reveal is audited.

The field plugs into Dexterity through a z3c.form data manager (forms and plone.restapi write
through it), a plone.restapi field serializer (masked) and one catalog index
(``sensitive_blind_index``) that every type shares.
"""

from __future__ import annotations

from finserv import _
from finserv.core import crypto
from finserv.core.codes import is_valid_id_number
from finserv.core.codes import is_valid_uscc
from Acquisition import aq_base
from z3c.form.datamanager import AttributeField
from zope import schema
from zope.interface import implementer
from zope.schema.interfaces import ITextLine

import re
import uuid

REVEAL_PERMISSION = "finserv: Reveal personal data"
MASK = "*"


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    hidden = max(len(value) - keep_start - keep_end, 1)
    return value[:keep_start] + MASK * hidden + (value[-keep_end:] if keep_end else "")


KINDS = {
    # kind: (validator, masker, error message)
    "id_number": (
        is_valid_id_number,
        lambda v: _mask(v, 3, 4),
        _("error_id_number", default="身份证号码无效：请检查位数、出生日期和校验位。"),
    ),
    "mobile": (
        lambda v: bool(re.fullmatch(r"1[3-9]\d{9}", v)),
        lambda v: _mask(v, 3, 4),
        _("error_mobile", default="手机号码无效：应为以 1 开头的 11 位数字。"),
    ),
    "bank_account": (
        lambda v: bool(re.fullmatch(r"\d{8,32}", v)),
        lambda v: _mask(v, 4, 4),
        _("error_bank_account", default="银行账号无效：应为 8 到 32 位数字。"),
    ),
    "uscc": (
        is_valid_uscc,
        lambda v: _mask(v, 4, 4),
        _("error_uscc", default="统一社会信用代码无效：请检查 18 位代码及校验位。"),
    ),
    "text": (lambda v: True, lambda v: _mask(v, 1, 1), None),
}


def normalise(kind: str, value: str) -> str:
    value = crypto.normalise_for_index(value) if kind in ("id_number", "uscc") else value.strip()
    return re.sub(r"[\s-]", "", value) if kind in ("mobile", "bank_account") else value


def mask(kind: str, value: str) -> str:
    return KINDS[kind][1](value) if value else ""


def is_masked(value) -> bool:
    return isinstance(value, str) and MASK in value


class InvalidSensitiveValue(schema.ValidationError):
    def __init__(self, message, value):
        super().__init__(value)
        self.message = message

    def doc(self):
        return self.message


class IEncryptedTextLine(ITextLine):
    """A text line stored encrypted; its ``kind`` selects validation and masking."""


@implementer(IEncryptedTextLine)
class EncryptedTextLine(schema.TextLine):
    def __init__(self, kind: str = "text", **kw):
        if kind not in KINDS:
            raise ValueError(f"unknown sensitive kind: {kind!r}")
        self.kind = kind
        super().__init__(**kw)

    def _validate(self, value):
        super()._validate(value)
        if is_masked(value):
            return  # the masked value shown in a form comes back unchanged
        validator, _masker, message = KINDS[self.kind]
        if not validator(normalise(self.kind, value)):
            raise InvalidSensitiveValue(message, value)


class EncryptedValue:
    """What the ZODB holds for a sensitive field: ciphertext, blind index, masked form.

    A plain (non-persistent) object stored in the content object's own record; it has no
    plaintext attribute, so the pickle never contains the value.
    """

    __slots__ = ("token", "blind", "masked", "kind")

    def __init__(self, token: bytes, blind: str, masked: str, kind: str):
        self.token = token
        self.blind = blind
        self.masked = masked
        self.kind = kind

    def __getstate__(self):
        # A tuple keeps the pickle small: bulk records carry several of these.
        return (self.token, self.blind, self.masked, self.kind)

    def __setstate__(self, state):
        self.token, self.blind, self.masked, self.kind = state

    def __repr__(self):
        return f"<EncryptedValue {self.masked}>"


AAD_ID = "_finserv_sensitive_id"


def _uid(obj) -> str:
    """The random id that binds an object's ciphertexts to it (kept by copies, unlike UIDs)."""
    base = aq_base(obj)
    aad_id = getattr(base, AAD_ID, None)
    if aad_id is None:
        aad_id = uuid.uuid4().hex
        setattr(base, AAD_ID, aad_id)
    return aad_id


def _aad(uid: str, field_name: str) -> bytes:
    return crypto.build_aad("finserv.sensitive", uid, field_name)


def blind(kind: str, value: str) -> str:
    """The blind-index term for an exact-match search: ``kind:hmac``."""
    return f"{kind}:{crypto.blind_index(normalise(kind, value), 'sensitive.' + kind)}"


def seal(obj, field_name: str, kind: str, value: str, uid: str | None = None) -> EncryptedValue:
    """Encrypt ``value`` for ``obj``'s field (records that are not content pass their ``uid``)."""
    value = normalise(kind, value)
    token = crypto.encrypt(value.encode("utf-8"), _aad(uid or _uid(obj), field_name))
    return EncryptedValue(token, blind(kind, value), mask(kind, value), kind)


def unseal(obj, field_name: str, stored: EncryptedValue, uid: str | None = None) -> str:
    """The plaintext. Callers outside this module use :func:`reveal`, which audits."""
    return crypto.decrypt(stored.token, _aad(uid or _uid(obj), field_name)).decode("utf-8")


def sensitive_fields(obj):
    """(name, field) of every encrypted field of ``obj``'s schema and behaviors."""
    from plone.dexterity.utils import iterSchemata

    for iface in iterSchemata(obj):
        for name, field in schema.getFieldsInOrder(iface):
            if IEncryptedTextLine.providedBy(field):
                yield name, field


def reveal(obj, field_name: str, reason: str = ""):
    """The full value of a sensitive field for a user allowed to see it; audited.

    Raises ``Unauthorized`` for users without "finserv: Reveal personal data" on ``obj``.
    """
    from AccessControl import Unauthorized
    from finserv.core.audit import record
    from plone import api

    if not api.user.has_permission(REVEAL_PERMISSION, obj=obj):
        raise Unauthorized(REVEAL_PERMISSION)
    stored = getattr(obj, field_name, None)
    if not isinstance(stored, EncryptedValue):
        return None
    value = unseal(obj, field_name, stored)
    record(
        "field.reveal",
        target="/".join(obj.getPhysicalPath()),
        details={"field": field_name, "kind": stored.kind, "reason": reason[:200]},
    )
    return value


def reencrypt_object(obj) -> int:
    """Re-encrypt every sensitive field of ``obj`` under the current key."""
    count = 0
    for name, _field in sensitive_fields(obj):
        stored = getattr(obj, name, None)
        if isinstance(stored, EncryptedValue):
            value = unseal(obj, name, stored)
            setattr(obj, name, seal(obj, name, stored.kind, value))
            count += 1
    return count


class EncryptedFieldProperty:
    """Descriptor that seals whatever plaintext is assigned to a sensitive field.

    Put it on the content class for fields of the type's own schema
    (``id_number = EncryptedFieldProperty(IPerson["id_number"])``); behaviors get it through
    :class:`SensitiveFieldsAdapter`. Then every path — forms, plone.restapi,
    ``plone.api.content.create(id_number=...)``, plain assignment — stores ciphertext; reading
    gives the :class:`EncryptedValue` (``.masked`` for display, :func:`reveal` for the value).
    """

    def __init__(self, field):
        self.field = field
        self.name = field.__name__

    def _storage(self, inst):
        return inst

    def __get__(self, inst, cls=None):
        if inst is None:
            return self
        storage = self._storage(inst)
        if hasattr(storage, "_p_activate"):
            storage._p_activate()
        return storage.__dict__.get(self.name)

    def __set__(self, inst, value):
        if is_masked(value):
            return  # the masked value a form or client shows comes back unchanged
        storage = self._storage(inst)
        if value in (None, ""):
            value = None
        elif not isinstance(value, EncryptedValue):
            value = seal(storage, self.name, self.field.kind, value)
        if hasattr(storage, "_p_activate"):
            storage._p_activate()
        storage.__dict__[self.name] = value
        if hasattr(storage, "_p_changed"):
            storage._p_changed = True


class _AdapterProperty(EncryptedFieldProperty):
    def _storage(self, inst):
        return inst.context


class SensitiveFieldsAdapter:
    """Base of behavior factories for schemas with encrypted fields (values on the context)."""

    def __init__(self, context):
        self.context = context


def sensitive_adapter(schema_interface, name=None):
    """A behavior factory class sealing every EncryptedTextLine of ``schema_interface``."""
    namespace = {
        field_name: _AdapterProperty(field)
        for field_name, field in schema.getFieldsInOrder(schema_interface)
        if IEncryptedTextLine.providedBy(field)
    }
    cls = type(name or f"{schema_interface.__name__}Adapter", (SensitiveFieldsAdapter,), namespace)
    return implementer(schema_interface)(cls)


class EncryptedFieldDataManager(AttributeField):
    """Forms and plone.restapi read the masked value; what they write is sealed on storage."""

    def get(self):
        stored = super().get()
        return stored.masked if isinstance(stored, EncryptedValue) else stored

    def query(self, default=None):
        stored = super().query(default)
        return stored.masked if isinstance(stored, EncryptedValue) else stored

    def set(self, value):
        if is_masked(value):
            return  # unchanged masked value from a form or client
        if not value:
            super().set(None)
            return
        target = getattr(self.adapted_context, "context", self.adapted_context)
        if not isinstance(value, EncryptedValue):
            value = seal(target, self.field.__name__, self.field.kind, value)
        super().set(value)


def sensitive_blind_index(obj):
    terms = []
    for name, _field in sensitive_fields(obj):
        stored = getattr(obj, name, None)
        if isinstance(stored, EncryptedValue):
            terms.append(stored.blind)
    return terms


def find(kind: str, value: str, **query):
    """Catalog brains whose sensitive field of ``kind`` equals ``value`` exactly."""
    from plone import api

    return api.content.find(sensitive_blind_index=blind(kind, value), **query)


def seal_plaintext(obj, event=None):
    """Seal any plaintext left in a sensitive field (``plone.api.content.create(id_number=...)``
    sets attributes directly): runs on creation and modification, before anything is stored."""
    for name, field in sensitive_fields(obj):
        value = aq_base(obj).__dict__.get(name)
        if isinstance(value, str):
            if value and not is_masked(value):
                setattr(obj, name, seal(obj, name, field.kind, value))
            else:
                setattr(obj, name, None)



def sensitive_behavior_field(name: str):
    """A field of the ``finserv.sensitive_contact`` behavior, by name."""
    from finserv.core.sensitive_behavior import ISensitiveContact

    return ISensitiveContact[name]


def export_values(objs, field_names, purpose: str = ""):
    """Rows of sensitive values for an export: in full for users allowed to see them (the
    export is audited once, with its size), masked for everyone else.

    Yields one list per object, in ``field_names`` order ("" where a value is missing).
    """
    from finserv.core.audit import record
    from plone import api

    objs = list(objs)
    full = bool(objs) and all(api.user.has_permission(REVEAL_PERMISSION, obj=o) for o in objs)
    if full:
        record(
            "personal_data.export",
            target=purpose or "export",
            details={"records": len(objs), "fields": list(field_names)},
        )
    for obj in objs:
        row = []
        for name in field_names:
            stored = getattr(obj, name, None)
            if not isinstance(stored, EncryptedValue):
                row.append("")
            else:
                row.append(unseal(obj, name, stored) if full else stored.masked)
        yield row


# Re-encryption after a key rotation: every mechanism that stores SM4 tokens outside the
# encrypted fields registers a function (portal) -> number of values re-encrypted.
REENCRYPTORS = []


def reencrypt_all_content(portal) -> int:
    """Every content object with encrypted fields, re-encrypted under the current key."""
    from Products.CMFCore.indexing import processQueue
    from Products.CMFCore.utils import getToolByName

    processQueue()
    catalog = getToolByName(portal, "portal_catalog")
    index = catalog._catalog.indexes["sensitive_blind_index"]
    count = 0
    for rid in set(index.documentToKeyMap()):
        obj = catalog.getobject(rid)
        count += reencrypt_object(obj)
    return count


REENCRYPTORS.append(reencrypt_all_content)
