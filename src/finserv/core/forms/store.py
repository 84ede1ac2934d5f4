"""Our own submission records: a small persistent store a module attaches to its content.

Never easyform's saved-data storage (see reference/plone.md §1.3). A :class:`SubmissionStore`
lives in an annotation of its container (an event, an application type, the EasyForm itself):
records in an ``OOBTree`` under random keys, so that concurrent submissions land in different
buckets, and a ``BTrees.Length`` counter, whose conflicts resolve themselves.

Each :class:`Submission` is a snapshot: the form's field names, labels, kinds and fieldsets at
submission time next to the values, so editing the form later changes no stored submission.
Sensitive kinds (身份证号, 手机号码, 统一社会信用代码) are sealed by :mod:`finserv.core.sensitive`
with the record's id as the binding; files are blobs (plone.namedfile).
"""

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from finserv.core import sensitive
from finserv.core.forms.model import field_kind
from finserv.core.forms.model import form_fields
from persistent import Persistent
from plone.namedfile.file import NamedBlobFile
from plone.namedfile.file import NamedBlobImage
from zope.annotation.interfaces import IAnnotations

import datetime
import uuid

STORE_KEY = "finserv.core.forms.submissions"
SENSITIVE_KINDS = ("id_number", "mobile", "uscc")


class Submission(Persistent):
    """One submitted form: answers plus the form's field snapshot at submission time."""

    def __init__(self, id, form_uid, form_title, fields, creator=None):
        self.id = id
        self.form_uid = form_uid
        self.form_title = form_title
        # [{"name", "title", "kind", "fieldset"}] in form order
        self.fields = fields
        self.values = {}
        self.creator = creator
        self.created = datetime.datetime.now(datetime.timezone.utc)

    def _aad_uid(self):
        return f"submission:{self.id}"

    def set_value(self, name, kind, value):
        if value is None:
            return
        if kind in SENSITIVE_KINDS:
            value = sensitive.seal(None, name, kind, value, uid=self._aad_uid())
        elif kind in ("file", "image"):
            factory = NamedBlobImage if kind == "image" else NamedBlobFile
            value = factory(data=value["data"], contentType=value["content_type"], filename=value["filename"])
        self.values[name] = value
        self._p_changed = True

    def display(self, name):
        """A value as a reader sees it: masked for sensitive kinds, file info for files."""
        value = self.values.get(name)
        if isinstance(value, sensitive.EncryptedValue):
            return value.masked
        if isinstance(value, (NamedBlobFile, NamedBlobImage)):
            return {"filename": value.filename, "content_type": value.contentType, "size": value.getSize()}
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return value

    def answers(self):
        """[{"name", "title", "kind", "fieldset", "value"}] in the order of the form as submitted."""
        return [dict(field, value=self.display(field["name"])) for field in self.fields if field["name"] in self.values]

    def plaintext(self, name):
        """The decrypted value of a sensitive answer. Not audited: callers showing it to a
        person check "finserv: Reveal personal data" and audit, as :func:`reveal` does."""
        value = self.values.get(name)
        if isinstance(value, sensitive.EncryptedValue):
            return sensitive.unseal(None, name, value, uid=self._aad_uid())
        return value

    def blind_terms(self):
        """Blind-index terms of the sensitive answers (for exact-match lookups by a module)."""
        return [v.blind for v in self.values.values() if isinstance(v, sensitive.EncryptedValue)]


class SubmissionStore(Persistent):
    """Submissions of one container: add, get, list (batched), count."""

    def __init__(self):
        self._items = OOBTree()
        self._count = Length()

    def new_id(self):
        while True:
            key = uuid.uuid4().hex
            if key not in self._items:
                return key

    def add(self, record):
        if record.id in self._items:
            raise KeyError(record.id)
        self._items[record.id] = record
        self._count.change(1)
        return record

    def get(self, id, default=None):
        return self._items.get(id, default)

    def remove(self, id):
        del self._items[id]
        self._count.change(-1)

    def list(self, start=0, size=20):
        """Records ``start`` to ``start + size`` in key order (random keys: no particular order;
        a module that lists by date keeps its own index or catalogs its records)."""
        result = []
        for index, record in enumerate(self._items.values()):
            if index < start:
                continue
            if len(result) >= size:
                break
            result.append(record)
        return result

    def __iter__(self):
        return iter(self._items.values())

    def __len__(self):
        return self._count()

    def count(self):
        return self._count()


def get_store(container, create=False):
    """The SubmissionStore of ``container`` (annotatable content); made if missing and ``create``."""
    if isinstance(container, SubmissionStore):
        return container
    annotations = IAnnotations(container)
    store = annotations.get(STORE_KEY)
    if store is None and create:
        store = annotations[STORE_KEY] = SubmissionStore()
    return store


def snapshot_fields(form):
    """The form's fields as stored with a submission: name, label, kind, fieldset, in order."""
    return [
        {"name": name, "title": str(field.title or name), "kind": field_kind(field), "fieldset": fieldset}
        for name, field, fieldset in form_fields(form)
    ]


def store_submission(container, form, cleaned: dict, files: dict | None = None, creator=None):
    """Store validated answers (``cleaned`` from :func:`validate_answers`, which already holds the
    uploads; ``files`` may add more) as a new record of ``container``'s store. Returns the record."""
    from plone import api

    store = get_store(container, create=True)
    fields = snapshot_fields(form)
    if creator is None and not api.user.is_anonymous():
        creator = api.user.get_current().getId()
    record = Submission(store.new_id(), form.UID(), form.Title(), fields, creator=creator)
    values = dict(cleaned)
    values.update(files or {})
    kinds = {f["name"]: f["kind"] for f in fields}
    for name, kind in kinds.items():
        if name in values:
            record.set_value(name, kind, values[name])
    return store.add(record)


def reveal(context, record, name, reason=""):
    """The full value of a sensitive answer for a user allowed to see it on ``context``; audited."""
    from AccessControl import Unauthorized
    from finserv.core.audit import record as audit
    from plone import api

    if not api.user.has_permission(sensitive.REVEAL_PERMISSION, obj=context):
        raise Unauthorized(sensitive.REVEAL_PERMISSION)
    value = record.plaintext(name)
    audit(
        "field.reveal",
        target="/".join(context.getPhysicalPath()) + f"/@submissions/{record.id}",
        details={"field": name, "reason": reason[:200]},
    )
    return value
