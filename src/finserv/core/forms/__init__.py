"""forms: forms site managers design through the web (collective.easyform), as JSON Schema,
validated server-side against the same model, submissions stored as our own records.

Public API::

    form_schema(form, request=None) -> dict                 # JSON Schema of an EasyForm
    validate_answers(form, answers, files=None) -> (cleaned, errors)
    store_submission(container, form, cleaned, files=None) -> Submission
    get_store(container, create=False) -> SubmissionStore   # add, get, list, count
    reveal(context, record, name, reason="") -> str         # audited full value

REST: ``GET <easyform>/@form-schema``, ``POST <easyform>/@form-submit``.
Field types for easyform's editor: ``finserv.core.forms.fields`` (IdNumber, Mobile, Uscc).
"""

from finserv.core.forms.jsonschema import form_schema  # noqa: F401
from finserv.core.forms.store import get_store  # noqa: F401
from finserv.core.forms.store import reveal  # noqa: F401
from finserv.core.forms.store import store_submission  # noqa: F401
from finserv.core.forms.store import Submission  # noqa: F401
from finserv.core.forms.store import SubmissionStore  # noqa: F401
from finserv.core.forms.validate import validate_answers  # noqa: F401
