"""core/calc: versioned parameter sets, a safe formula language, traced Decimal calculations.

Pure Python (no Plone imports); persistence belongs to the module that stores the versions.
"""

from .engine import calculate
from .engine import Result
from .engine import TraceStep
from .errors import CalcError
from .errors import ExpressionError
from .expr import Expression
from .expr import parse
from .golden import GoldenFailure
from .golden import load_cases
from .golden import load_versions
from .golden import run_golden
from .model import derive
from .model import PolicyVersion
from .model import transition
from .validation import validate
from .versions import Change
from .versions import diff
from .versions import rollback
from .versions import select_version

from pathlib import Path


EXAMPLES = Path(__file__).parent / "examples"

__all__ = [
    "CalcError",
    "Change",
    "EXAMPLES",
    "Expression",
    "ExpressionError",
    "GoldenFailure",
    "PolicyVersion",
    "Result",
    "TraceStep",
    "calculate",
    "derive",
    "diff",
    "load_cases",
    "load_versions",
    "parse",
    "rollback",
    "run_golden",
    "select_version",
    "transition",
    "validate",
]
