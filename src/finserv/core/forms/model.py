"""Reading an EasyForm's field model: its fields in order, with their fieldsets and kinds.

The one place that knows how collective.easyform stores a form (``fields_model`` supermodel XML,
fieldsets in the schema's tagged values, easyform's per-field extras via ``IFieldExtender``).
"""

from collective.easyform.api import get_schema
from collective.easyform.interfaces import IFieldExtender
from collective.easyform.interfaces import ILabel
from finserv.core.forms.fields import ICodeField
from plone.namedfile.interfaces import INamedField
from plone.namedfile.interfaces import INamedImageField
from plone.supermodel.interfaces import FIELDSETS_KEY
from zope.schema import getFieldsInOrder
from zope.schema.interfaces import IBool
from zope.schema.interfaces import IChoice
from zope.schema.interfaces import ICollection
from zope.schema.interfaces import IDate
from zope.schema.interfaces import IDatetime
from zope.schema.interfaces import IFloat
from zope.schema.interfaces import IInt
from zope.schema.interfaces import IText
from zope.schema.interfaces import ITextLine

try:
    from plone.schema.email import IEmail
except ImportError:  # pragma: no cover
    from plone.schema import IEmail

DEFAULT_FIELDSET = "default"

# field types whose answers we do not collect (display-only, or browser-only robots checks)
_SKIPPED = ("ReCaptcha", "HCaptcha", "NorobotCaptcha")


def easyform_validators(field):
    """The names of easyform validators chosen for ``field`` in the schema editor."""
    try:
        return list(getattr(IFieldExtender(field), "validators", None) or [])
    except TypeError:
        return []


def field_kind(field) -> str:
    """What kind of answer a field takes: one word our JSON Schema, validation and storage share."""
    if ICodeField.providedBy(field):
        return field.kind
    if INamedImageField.providedBy(field):
        return "image"
    if INamedField.providedBy(field):
        return "file"
    if IChoice.providedBy(field):
        return "choice"
    if ICollection.providedBy(field) and IChoice.providedBy(getattr(field, "value_type", None)):
        return "multichoice"
    if IDatetime.providedBy(field):
        return "datetime"
    if IDate.providedBy(field):
        return "date"
    if IBool.providedBy(field):
        return "bool"
    if IInt.providedBy(field):
        return "int"
    if IFloat.providedBy(field):
        return "float"
    if IEmail.providedBy(field) or "isValidEmail" in easyform_validators(field):
        return "email"
    if IText.providedBy(field) and not ITextLine.providedBy(field):
        return "text"  # multi-line
    return "string"


def form_fields(form):
    """[(name, field, fieldset_name)] of the answerable fields of ``form``, in form order."""
    schema = get_schema(form)
    in_fieldset = {}
    for fieldset in schema.queryTaggedValue(FIELDSETS_KEY, []) or []:
        for name in fieldset.fields:
            in_fieldset[name] = fieldset.__name__
    result = []
    for name, field in getFieldsInOrder(schema):
        if ILabel.providedBy(field) or type(field).__name__ in _SKIPPED:
            continue
        result.append((name, field, in_fieldset.get(name, DEFAULT_FIELDSET)))
    return result


def form_fieldsets(form):
    """[(name, label, description)] of the form's fieldsets, the default one first."""
    schema = get_schema(form)
    return [(DEFAULT_FIELDSET, None, None)] + [
        (fs.__name__, fs.label, fs.description) for fs in schema.queryTaggedValue(FIELDSETS_KEY, []) or []
    ]


def choice_terms(field):
    """[(value, title)] of a choice field (or of a multiple choice's value type)."""
    choice = field if IChoice.providedBy(field) else field.value_type
    vocabulary = choice.vocabulary
    if vocabulary is None:
        return []
    if not hasattr(vocabulary, "__iter__"):
        return []
    return [(term.value, term.title or str(term.value)) for term in vocabulary]
