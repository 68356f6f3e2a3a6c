"""The ``intermt`` command line.

Exit codes: 0 success, 1 the data has errors (unreadable or missing files included),
2 a usage error (a bad option or an unknown format name).

>>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import IO

import msgspec

from . import __version__
from ._errors import IntermtError
from ._fs import atomic_output
from ._records import validate_path
from ._report import RecordResult
from ._validate import ValidationOptions

__all__ = ["main"]


class UsageError(Exception):
    """A mistake in how the command was called (exit code 2)."""


def reject_line(result: RecordResult) -> bytes:
    """A rejects-file line: where the record was, why, and the record verbatim."""
    entry: dict[str, object] = {"source": result.source, "line": result.line}
    entry["errors"] = [i for i in result.report.issues if i.severity == "error"]
    if result.raw is not None:
        raw = result.raw.removesuffix(b"\n")
        try:
            entry["record"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            entry["record_base64"] = base64.b64encode(raw).decode("ascii")
    return msgspec.json.encode(entry) + b"\n"


class Tally:
    """Counts records read, accepted and rejected, and issues by severity."""

    def __init__(self) -> None:
        self.read = self.accepted = self.rejected = 0
        self.by_severity = {"error": 0, "warning": 0, "info": 0}

    def add(self, result: RecordResult) -> None:
        if result.line is not None:
            self.read += 1
        if result.accepted:
            self.accepted += 1
        elif result.line is not None:
            self.rejected += 1
        for issue in result.report:
            self.by_severity[issue.severity] += 1

    @property
    def failed(self) -> bool:
        return self.by_severity["error"] > 0

    def summary(self) -> dict[str, int]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "errors": self.by_severity["error"],
            "warnings": self.by_severity["warning"],
            "infos": self.by_severity["info"],
        }

    def render(self) -> str:
        s = self.summary()
        return (
            f"{s['read']} records read: {s['accepted']} accepted, {s['rejected']} rejected "
            f"({s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos)"
        )


def _validate(args: argparse.Namespace, out: IO[str]) -> int:
    options = ValidationOptions(
        strict=args.strict,
        images_root=args.images_root,
        check_images=args.check_images,
        role_order=args.role_order,
    )
    tally = Tally()
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(atomic_output(args.rejects)) if args.rejects else None
        for path in args.paths:
            for result in validate_path(path, options):
                tally.add(result)
                for issue in result.report:
                    if args.format == "json":
                        out.write(msgspec.json.encode(issue).decode() + "\n")
                    elif issue.severity != "info" or args.verbose:
                        out.write(issue.render() + "\n")
                if sink is not None and not result.accepted and result.line is not None:
                    sink.write(reject_line(result))
    if args.format == "json":
        out.write(msgspec.json.encode({"summary": tally.summary()}).decode() + "\n")
    else:
        out.write(tally.render() + "\n")
    return 1 if tally.failed else 0


def _add_validate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check files or folders of canonical trees")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, folder or fsspec URL")
    p.add_argument("--images-root", help="folder or URL that image paths are relative to")
    p.add_argument("--check-images", action="store_true", help="open and decode every image")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--role-order", choices=["alternate", "any"], default="alternate")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--rejects", metavar="FILE", help="write rejected records here, with reasons")
    p.add_argument("-v", "--verbose", action="store_true", help="also print info-level notes")
    p.set_defaults(run=_validate)


def _schema(args: argparse.Namespace, out: IO[str]) -> int:
    from ._jsonschema import json_schema_text

    out.write(json_schema_text())
    return 0


def _add_schema(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a canonical tree")
    p.set_defaults(run=_schema)


COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_validate,
    _add_schema,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command."""
    parser = argparse.ArgumentParser(prog="intermt", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"intermt-schema {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args, out or sys.stdout)
    except UsageError as exc:
        print(f"intermt: error: {exc}", file=sys.stderr)
        return 2
    except IntermtError as exc:
        print(f"intermt: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
