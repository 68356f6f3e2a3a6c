"""``intermt validate``: check canonical files, folders or URLs, every record counted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

import msgspec

from .._errors import check_choice
from ..io._readers import TreeIds, validate_path
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
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Validate every record of ``paths``, printing each issue and the summary to
    ``out`` and keeping rejected records in ``rejects``; returns the exit code (1 when
    any error was found). Tree ids must be unique across all the paths."""
    check_choice("report format", report_format, REPORT_FORMATS)
    refuse_overwriting(paths, rejects)
    tally = tally_for(quiet)
    with rejects_file(rejects) as sink:
        tree_ids = TreeIds()
        for path in paths:
            for result in validate_path(path, options or ValidationOptions(), tree_ids=tree_ids):
                account(result, tally, out, report_format, sink, verbose=verbose)
    if report_format == "json":
        out.write(msgspec.json.encode({"summary": tally.summary()}).decode() + "\n")
    else:
        out.write(tally.render() + "\n")
    return 1 if tally.failed else 0


def run(args: argparse.Namespace, out: IO[str]) -> int:
    options = ValidationOptions(
        strict=args.strict,
        images_root=args.images_root,
        check_images=args.check_images,
        role_order=args.role_order,
    )
    return validate_paths(
        args.paths, options, rejects=args.rejects, report_format=args.format,
        verbose=args.verbose, quiet=args.quiet, out=out,
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
    p.set_defaults(run=run)
