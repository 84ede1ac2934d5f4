"""Errors raised by the calculation engine. Messages are in Chinese: they reach officers and reviewers."""


class CalcError(ValueError):
    """Bad input, bad parameter version or a failed computation. No partial result is returned."""


class ExpressionError(CalcError):
    """A formula that does not parse or uses something outside the expression language."""
