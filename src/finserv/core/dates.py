"""Dates as people in Shanghai read them (catalog DateTimes are stored in UTC)."""

from DateTime import DateTime

import datetime

TZ = "Asia/Shanghai"


def to_datetime(value: datetime.date | None) -> DateTime | None:
    """A calendar date as the DateTime of its midnight in Shanghai (for DateIndexes)."""
    return DateTime(f"{value.isoformat()} 00:00:00 {TZ}") if value else None


def day_bound(value: datetime.date, end: bool = False) -> DateTime:
    """The first (or last) second of a calendar day in Shanghai."""
    return DateTime(f"{value.isoformat()} {'23:59:59' if end else '00:00:00'} {TZ}")


def iso_date(value) -> str | None:
    """A DateTime as YYYY-MM-DD in Shanghai; None for empty and for the far-future sentinel.

    DateTime.strftime formats in the process's local zone, so the fields are read directly.
    """
    if not value or not isinstance(value, DateTime) or value.year() >= 2999 or value.year() < 1971:
        return None
    local = value.toZone(TZ)
    return f"{local.year():04d}-{local.month():02d}-{local.day():02d}"
