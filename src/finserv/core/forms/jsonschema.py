"""An EasyForm's fields as JSON Schema (draft 2020-12), for the mini-program and H5 pages.

Titles, descriptions, defaults and choices come from plone.restapi's per-field
``IJsonSchemaProvider`` adapters (the same ones ``@types`` uses for Dexterity schemas); this
module adds what a form client needs on top: ``required``, ``enum``/``enumNames`` with the
stored values, ``format`` (email, date, date-time, binary), ``x-kind`` for our code fields,
accepted file types and size, and the fieldsets as ``x-fieldsets``.
"""

from finserv import _
from finserv.core.forms.model import choice_terms
from finserv.core.forms.model import DEFAULT_FIELDSET
from finserv.core.forms.model import field_kind
from finserv.core.forms.model import form_fields
from finserv.core.forms.model import form_fieldsets
from finserv.core.forms.validate import max_file_size
from plone.restapi.types.interfaces import IJsonSchemaProvider
from zope.component import queryMultiAdapter
from zope.globalrequest import getRequest
from zope.i18n import translate

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_PROVIDER_KEYS = ("title", "description", "default")


def _t(message, request):
    if message is None:
        return ""
    return translate(message, context=request) if request is not None else translate(message, target_language="zh_CN")


def field_schema(field, kind, form, request):
    provided = {}
    provider = queryMultiAdapter((field, form, request), IJsonSchemaProvider)
    if provider is not None:
        try:
            provided = provider.get_schema()
        except Exception:  # a provider needing more context than a form has: fall back
            provided = {}
    prop = {key: provided[key] for key in _PROVIDER_KEYS if provided.get(key) not in (None, "")}
    prop.setdefault("title", _t(field.title, request) or field.__name__)
    prop.setdefault("description", _t(field.description, request) if field.description else "")
    if kind in ("id_number", "mobile", "uscc"):
        prop.update(type="string")
        prop["x-kind"] = kind
    elif kind in ("file", "image"):
        prop = {"title": prop["title"], "description": prop["description"], "type": "string", "format": "binary"}
        accept = list(getattr(field, "accept", ()) or ())
        if accept:
            prop["x-accept"] = accept
        prop["x-maxSize"] = max_file_size()
        prop["x-kind"] = kind
    elif kind == "choice":
        terms = choice_terms(field)
        prop.update(type="string", enum=[v for v, _t_ in terms], enumNames=[str(t) for _v, t in terms])
    elif kind == "multichoice":
        terms = choice_terms(field)
        prop.update(
            type="array",
            uniqueItems=True,
            items={"type": "string", "enum": [v for v, _t_ in terms], "enumNames": [str(t) for _v, t in terms]},
        )
    elif kind == "date":
        prop.update(type="string", format="date")
    elif kind == "datetime":
        prop.update(type="string", format="date-time")
    elif kind == "email":
        prop.update(type="string", format="email")
    elif kind == "bool":
        prop.update(type="boolean")
    elif kind == "int":
        prop.update(type="integer")
    elif kind == "float":
        prop.update(type="number")
    else:
        prop.update(type="string")
        if kind == "text":
            prop["x-widget"] = "textarea"
    if prop.get("type") == "string" and kind not in ("file", "image", "choice"):
        if getattr(field, "max_length", None):
            prop["maxLength"] = field.max_length
        if getattr(field, "min_length", None):
            prop["minLength"] = field.min_length
    for attr, key in (("min", "minimum"), ("max", "maximum")):
        if kind in ("int", "float") and getattr(field, attr, None) is not None:
            prop[key] = getattr(field, attr)
    if "default" in prop and kind in ("date", "datetime"):
        prop["default"] = prop["default"].isoformat() if hasattr(prop["default"], "isoformat") else prop["default"]
    return prop


def form_schema(form, request=None) -> dict:
    """The JSON Schema of an EasyForm's fields (see the module docstring)."""
    request = request if request is not None else getRequest()
    properties = {}
    required = []
    by_fieldset = {}
    for name, field, fieldset in form_fields(form):
        kind = field_kind(field)
        properties[name] = field_schema(field, kind, form, request)
        if field.required:
            required.append(name)
        by_fieldset.setdefault(fieldset, []).append(name)
    fieldsets = []
    for name, label, description in form_fieldsets(form):
        if name == DEFAULT_FIELDSET:
            label = _("forms_default_fieldset", default="基本信息")
        if name == DEFAULT_FIELDSET and not by_fieldset.get(name):
            continue
        fieldsets.append(
            {
                "id": name,
                "title": _t(label, request) or name,
                "description": _t(description, request) if description else "",
                "fields": by_fieldset.get(name, []),
            }
        )
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "title": form.Title(),
        "description": form.Description(),
        "properties": properties,
        "required": required,
        "x-order": list(properties),
        "x-fieldsets": fieldsets,
    }
