"""plone.restapi parts of the encrypted fields: masked serialisation and explicit reveal."""

from AccessControl import Unauthorized
from finserv import _
from finserv.core.sensitive import EncryptedValue
from finserv.core.sensitive import IEncryptedTextLine
from finserv.core.sensitive import reveal
from plone.dexterity.interfaces import IDexterityContent
from plone.restapi.deserializer import json_body
from plone.restapi.interfaces import IFieldSerializer
from plone.restapi.serializer.dxfields import DefaultFieldSerializer
from plone.restapi.services import Service
from zope.component import adapter
from zope.interface import implementer
from zope.interface import Interface
from zope.i18n import translate
from zope.interface import alsoProvides
from plone.protect.interfaces import IDisableCSRFProtection


@adapter(IEncryptedTextLine, IDexterityContent, Interface)
@implementer(IFieldSerializer)
class MaskedFieldSerializer(DefaultFieldSerializer):
    def __call__(self):
        stored = self.get_value()
        return stored.masked if isinstance(stored, EncryptedValue) else None


class RevealPost(Service):
    """POST …/@reveal {"field": "id_number", "reason": "核验申报材料"} → the full value (audited)."""

    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        data = json_body(self.request) or {}
        name = data.get("field")
        stored = getattr(self.context, name, None) if isinstance(name, str) else None
        if not isinstance(stored, EncryptedValue):
            self.request.response.setStatus(400)
            return {"type": "BadRequest", "message": translate(_("reveal_no_field", default="没有这个加密字段。"), context=self.request)}
        try:
            value = reveal(self.context, name, reason=str(data.get("reason") or ""))
        except Unauthorized:
            self.request.response.setStatus(403)
            return {"type": "Forbidden", "message": translate(_("reveal_forbidden", default="您没有查看完整个人信息的权限。"), context=self.request)}
        return {"field": name, "value": value}
