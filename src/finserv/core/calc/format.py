"""Number and interval formatting for traces and explanations."""

from decimal import Decimal


def money(value):
    """``450000`` → ``450,000``; ``1234567.89`` → ``1,234,567.89``; never scientific notation."""
    if isinstance(value, bool) or not isinstance(value, Decimal):
        return str(value)
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):,}"
    return f"{value:,f}"


def interval(row):
    low = "-∞" if row.low is None else money(row.low)
    high = "+∞" if row.high is None else money(row.high)
    left = "[" if row.low_inclusive and row.low is not None else "("
    right = "]" if row.high_inclusive and row.high is not None else ")"
    return f"{left}{low}, {high}{right}"
