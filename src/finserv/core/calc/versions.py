"""Choosing the version in force, diffing two versions, rolling back (as a new version)."""

from dataclasses import dataclass
from datetime import date

from .errors import CalcError
from .model import derive
from .model import PolicyVersion


def select_version(versions, on_date):
    """The published version in force on *on_date* (the latest effective_from wins a tie)."""
    if isinstance(on_date, str):
        try:
            on_date = date.fromisoformat(on_date)
        except ValueError:
            raise CalcError(f"日期无效（YYYY-MM-DD）：{on_date}") from None
    candidates = [v for v in versions if v.status == "published" and v.in_force(on_date)]
    if not candidates:
        raise CalcError(f"{on_date.isoformat()} 没有生效的已发布参数版本")
    return max(candidates, key=lambda v: (v.effective_from, v.version))


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "content.brackets.base_award.rows[1].value"
    kind: str  # added | removed | changed
    old: object = None
    new: object = None

    def text(self):
        word = {"added": "新增", "removed": "删除", "changed": "修改"}[self.kind]
        if self.kind == "changed":
            return f"{word} {self.path}：{self.old} → {self.new}"
        return f"{word} {self.path}：{self.new if self.kind == 'added' else self.old}"


_IGNORED = {"id", "version", "status", "author", "note", "approved_by"}


def diff(a, b, *, metadata=False):
    """Structured differences from *a* to *b* (content, dates and reference; ``metadata=True``
    also compares id, version number, status, author and note)."""
    left, right = a.to_dict(), b.to_dict()
    if not metadata:
        for key in _IGNORED:
            left.pop(key, None)
            right.pop(key, None)
    changes = []
    _walk(left, right, "", changes)
    return changes


def _walk(x, y, path, out):
    if isinstance(x, dict) and isinstance(y, dict):
        for key in list(x) + [k for k in y if k not in x]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in y:
                out.append(Change(sub, "removed", old=x[key]))
            elif key not in x:
                out.append(Change(sub, "added", new=y[key]))
            else:
                _walk(x[key], y[key], sub, out)
    elif isinstance(x, list) and isinstance(y, list):
        for i in range(max(len(x), len(y))):
            sub = f"{path}[{i}]"
            if i >= len(y):
                out.append(Change(sub, "removed", old=x[i]))
            elif i >= len(x):
                out.append(Change(sub, "added", new=y[i]))
            else:
                _walk(x[i], y[i], sub, out)
    elif x != y:
        out.append(Change(path, "changed", old=x, new=y))


def rollback(versions, to_id, *, new_id, effective_from, author, note="", effective_to=None):
    """A new draft version whose content equals version *to_id*; history is never rewritten."""
    by_id = {v.id: v for v in versions}
    if to_id not in by_id:
        raise CalcError(f"没有参数版本 {to_id}")
    if new_id in by_id:
        raise CalcError(f"参数版本 {new_id} 已存在")
    old: PolicyVersion = by_id[to_id]
    number = max(v.version for v in versions) + 1
    return derive(
        old,
        id=new_id,
        version=number,
        effective_from=effective_from,
        effective_to=effective_to,
        author=author,
        note=note or f"回滚到 {to_id}",
    )
