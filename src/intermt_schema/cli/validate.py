"""``intermt validate``: check canonical files, folders or URLs, every record counted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

import msgspec

from .._errors import OptionError, check_choice
from ..io._readers import TreeIds, validate_path
from ..validation._report import RecordResult
from ..validation._rules import ValidationOptions
from ._accounting import (
    REPORT_FORMATS,
    account,
    add_check_media,
    refuse_overwriting,
    rejects_file,
    tally_for,
)

__all__ = ["add_parser", "run", "validate_paths"]


def validate_paths(
    paths: Sequence[str],
    options: ValidationOptions | None = None,
    *,
    rejects: str | None = None,
    report_format: str = "text",
    verbose: bool = False,
    workers: int = 1,
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Validate every record of ``paths``, printing each issue and the summary to
    ``out`` and keeping rejected records in ``rejects``; returns the exit code (1 when
    any error was found). Tree ids must be unique across all the paths. ``workers``
    processes validate JSON Lines paths; the output is the same."""
    check_choice("report format", report_format, REPORT_FORMATS)
    if workers < 1:
        raise OptionError(f"--workers must be at least 1, not {workers}")
    refuse_overwriting(paths, rejects)
    tally = tally_for(quiet)
    options = options or ValidationOptions()
    with rejects_file(rejects) as sink:
        tree_ids = TreeIds()

        def count(result: RecordResult, accepted: bool | None = None) -> None:
            account(result, tally, out, report_format, sink, verbose=verbose, accepted=accepted)

        for path in paths:
            if workers > 1 and _in_workers(path):
                from ..scale.workers import parallel_validate

                parallel_validate(path, options, workers, count, tree_ids)
            else:
                for result in validate_path(path, options, tree_ids=tree_ids):
                    count(result)
    if report_format == "json":
        out.write(msgspec.json.encode({"summary": tally.summary()}).decode() + "\n")
    else:
        out.write(tally.render() + "\n")
    return 1 if tally.failed else 0


def _in_workers(path: str) -> bool:
    from ..scale.workers import jsonl_only

    if jsonl_only(path):
        return True
    print(f"intermt: --workers applies to JSON Lines; {path} in one process", file=sys.stderr)
    return False


def run(args: argparse.Namespace, out: IO[str]) -> int:
    options = ValidationOptions(
        strict=args.strict,
        images_root=args.images_root,
        check_images=args.check_images,
        role_order=args.role_order,
    )
    return validate_paths(
        args.paths, options, rejects=args.rejects, report_format=args.format,
        verbose=args.verbose, workers=args.workers, quiet=args.quiet, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check files or folders of canonical trees")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, folder or fsspec URL")
    p.add_argument("--images-root", help="folder or URL that image paths are relative to")
    add_check_media(p)
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--role-order", choices=["alternate", "any"], default="alternate")
    p.add_argument("--format", choices=REPORT_FORMATS, default="text")
    p.add_argument("-v", "--verbose", action="store_true", help="also print info-level notes")
    p.add_argument(
        "--workers", type=int, default=1, metavar="N", help="validate JSON Lines in N processes"
    )
    p.set_defaults(run=run)
