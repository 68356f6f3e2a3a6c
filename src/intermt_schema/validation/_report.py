"""Validation reports: issues with a rule code, severity, locator and JSON pointer.

>>> report = Report([Issue(code="tree.no_root", severity="error", message="no root",
...                        path="/nodes", tree="t1", file="a.jsonl", line=3)])
>>> print(report.render())
a.jsonl:3: tree t1: error tree.no_root at /nodes: no root
>>> report.ok
False
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeAlias

import msgspec
from msgspec import Struct

from .._errors import ValidationError

if TYPE_CHECKING:
    from ..schema._structs import DialogueTree

__all__ = ["Issue", "RecordResult", "Report", "Severity", "unreadable"]


Severity: TypeAlias = Literal["error", "warning", "info"]


class Issue(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One problem found in one record.

    ``path`` is a JSON pointer into the record; ``file`` and ``line`` (a 1-based line
    or row number) say which record; ``tree`` is its id when it could be read.
    """

    code: str
    severity: Severity
    message: str
    path: str = ""
    tree: str | None = None
    file: str | None = None
    line: int | None = None

    def render(self) -> str:
        """One line for people: ``file:line: tree id: severity code at path: message``."""
        where = []
        if self.file is not None:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.tree is not None:
            where.append(f"tree {self.tree}")
        head = ": ".join(where)
        at = f" at {self.path}" if self.path else ""
        body = f"{self.severity} {self.code}{at}: {self.message}"
        return f"{head}: {body}" if head else body


def unreadable(url: str, action: str, exc: BaseException | str) -> Issue:
    """The ``file.unreadable`` issue of a file that could not be listed, opened or read.

    >>> unreadable("a.json", "open", FileNotFoundError("no such file")).render()
    'a.json: error file.unreadable: cannot open a.json: FileNotFoundError: no such file'
    """
    why = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return Issue(
        code="file.unreadable", severity="error", file=url, message=f"cannot {action} {url}: {why}"
    )


class Report:
    """The issues found in one record or in many, in the order they were found."""

    __slots__ = ("issues",)

    def __init__(self, issues: Iterable[Issue] = ()) -> None:
        self.issues: list[Issue] = list(issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def __repr__(self) -> str:
        return f"Report({len(self.errors)} errors, {len(self.warnings)} warnings)"

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity ``error``."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity ``warning``."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when the report holds no error (warnings and infos allowed)."""
        return all(i.severity != "error" for i in self.issues)

    def codes(self) -> Counter[str]:
        """How often each rule code occurs.

        >>> Report([Issue(code="x", severity="info", message="m")]).codes()
        Counter({'x': 1})
        """
        return Counter(i.code for i in self.issues)

    def extend(self, other: Iterable[Issue]) -> None:
        """Add issues from another report or list."""
        self.issues.extend(other)

    def render(self) -> str:
        """The issues as text, one per line."""
        return "\n".join(i.render() for i in self.issues)

    def raise_for_errors(self) -> None:
        """Raise :class:`~intermt_schema.ValidationError` when the report holds errors;
        its message counts them and lists every issue, warnings included.

        >>> Report([Issue(code="x", severity="warning", message="m")]).raise_for_errors()
        >>> Report([Issue(code="x", severity="error", message="m")]).raise_for_errors()
        Traceback (most recent call last):
        ...
        intermt_schema.ValidationError: Found 1 error(s) and 0 warning(s):
        error x: m
        """
        errors = self.errors
        if errors:
            head = f"Found {len(errors)} error(s) and {len(self.warnings)} warning(s):"
            shown = [i for i in self.issues if i.severity != "info"]
            raise ValidationError("\n".join([head, *(i.render() for i in shown)]), self)

    def to_json(self) -> bytes:
        """The issues as a JSON array.

        >>> Report([Issue(code="x", severity="info", message="m")]).to_json()
        b'[{"code":"x","severity":"info","message":"m"}]'
        """
        return msgspec.json.encode(self.issues)


class RecordResult(NamedTuple):
    """One input record after validation.

    ``line`` is the 1-based line (JSONL) or row (Parquet); ``None`` when the problem
    concerns the whole file. ``raw`` keeps the record verbatim for a rejects file.
    """

    source: str
    line: int | None
    tree: DialogueTree | None
    report: Report
    raw: bytes | None

    @property
    def accepted(self) -> bool:
        """Decoded, and no error among its issues."""
        return self.tree is not None and self.report.ok
