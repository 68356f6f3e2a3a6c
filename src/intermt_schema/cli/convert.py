"""``intermt convert``: any input format to any output format, every record counted.

An option flag reaches the format that declares it (``Format.export_options``,
``Format.load_options``); a flag given for a format that does not take it is a usage
error naming the formats that do.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

from .._errors import OptionError
from ..formats._options import ASSISTANT_IMAGES, IMAGES, ExportOptions, LoadOptions
from ..formats._records import split_options, write_records
from ..formats._registry import Format, LossReport, available_formats, get_format
from ..formats.canonical import level_report
from ..io._tables import LEVELS
from ..validation._report import RecordResult
from ..validation._rules import ValidationOptions
from ._accounting import (
    Tally,
    account,
    add_input,
    images_root_of,
    print_summary,
    read_trees,
    refuse_overwriting,
    rejects_file,
    source_format,
    tally_for,
    workers_for,
)

__all__ = ["FORMAT_FLAGS", "add_limits", "add_parser", "convert", "format_options", "run"]

FORMAT_FLAGS = ("mode", "style", "layout", "level", "criterion", "images", "assistant_images",
                "single_image", "urls", "max_images", "max_chars")  # fmt: skip
"""The ``convert`` flags that are options of a format (each taken by some formats)."""


def format_options(
    given: dict[str, Any], target: Format, source: Format | None
) -> tuple[ExportOptions, LoadOptions]:
    """Route the flags given (``None``: not given) to the target's export and the
    source's load; a flag neither takes is an ``OptionError`` naming the formats
    that take it.

    >>> from intermt_schema.formats import get_format
    >>> format_options({"single_image": True}, get_format("trl"), None)
    Traceback (most recent call last):
    ...
    intermt_schema.OptionError: --single-image is not an option of trl; formats that take it: llava
    """
    export: dict[str, Any] = {}
    load: dict[str, Any] = {}
    for name, value in given.items():
        if value is None or value is False:
            continue
        if name in target.export_options:
            export[name] = value
        if source is not None and name in source.load_options:
            load[name] = value
        if name not in export and name not in load:
            flag = "--" + name.replace("_", "-")
            takers = [f.name for f in available_formats() if name in f.export_options]
            takers += [f"{f.name} (as --from)" for f in available_formats()
                       if name in f.load_options]  # fmt: skip
            raise OptionError(
                f"{flag} is not an option of {target.name}; formats that take it: "
                + ", ".join(takers)
            )
    target.check_export(export)
    return ExportOptions(**export), LoadOptions(**load)  # type: ignore[typeddict-item]


def convert(
    input: str,
    output: str,
    *,
    to: str,
    source: str | None = None,
    options: dict[str, Any] | None = None,
    images_root: str | None = None,
    workers: int = 1,
    rejects: str | None = None,
    report_format: str = "text",
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Convert ``input`` (any format; detected unless ``source`` names it) to ``to``
    at ``output``, printing each issue, the summary and the loss report to ``out``;
    returns the exit code (0, or 1 when records were rejected). ``options`` holds
    format options by name (``mode``, ``level``, ...); a bad one raises
    ``OptionError``."""
    target = get_format(to)
    refuse_overwriting([input], output, rejects)
    from_name = source_format(input, source)
    export_options, load_options = format_options(options or {}, target, get_format(from_name))
    if workers < 1:
        raise OptionError(f"--workers must be at least 1, not {workers}")
    root = images_root_of(input, images_root)
    if "source_root" in target.export_options:
        export_options["source_root"] = root
    checks = ValidationOptions(images_root=root)
    tally = tally_for(quiet)
    per_file = images_root is None  # a folder's files each resolve images in their folder
    workers = workers_for(input, from_name, workers, per_file_images=per_file)
    with rejects_file(rejects) as sink:
        if workers > 1:
            loss = _convert_in_workers(
                input, output, target, checks, export_options, workers, tally, out, sink,
                report_format,
            )  # fmt: skip
        else:
            trees = read_trees(
                input, from_name, checks, tally, out, report_format, sink, load_options,
                per_file_images=per_file,
            )  # fmt: skip
            loss = target.export(trees, output, **export_options)
    print_summary(out, report_format, tally, [loss])
    return 1 if tally.failed else 0


def _convert_in_workers(
    input: str,
    output: str,
    target: Format,
    checks: ValidationOptions,
    export_options: ExportOptions,
    workers: int,
    tally: Tally,
    out: IO[str],
    sink: IO[bytes] | None,
    report_format: str,
) -> LossReport:
    """Record formats, and the rows of canonical Parquet and ``datasets`` folders, are
    built in the workers; the other lossless formats get trees validated there."""
    from ..scale.workers import parallel_lossless, parallel_records, parallel_trees

    def count(result: RecordResult, accepted: bool) -> None:
        account(result, tally, out, report_format, sink, accepted=accepted)

    if target.name in ("parquet", "hf"):
        root, level = export_options.get("source_root"), export_options.get("level", "tree")
        rows, unembedded = parallel_lossless(
            input, output, target.name, checks, root, workers, count, level
        )
        return level_report(target.name, level, rows, unembedded)
    if target.records is None:
        trees = parallel_trees(input, checks, workers, count)
        return target.export(trees, output, **export_options)
    chosen, finishing = split_options(target, output, export_options)
    loss = LossReport(format=target.name)
    list(target.build_records([], loss, **chosen))  # names the report
    records = parallel_records(input, target.name, checks, chosen, workers, count, loss)
    return write_records(target, records, output, loss, **finishing)


def run(args: argparse.Namespace, out: IO[str]) -> int:
    return convert(
        args.input, args.output, to=args.target, source=args.source,
        options={name: getattr(args, name) for name in FORMAT_FLAGS},
        images_root=args.images_root, workers=args.workers, rejects=args.rejects,
        report_format=args.format, quiet=args.quiet, out=out,
    )  # fmt: skip


def add_limits(parser: argparse.ArgumentParser) -> None:
    """``--max-images`` and ``--max-chars``, the training exports' opt-in filters (see
    ``intermt stats`` for the lengths to choose them by)."""
    parser.add_argument(
        "--max-images", type=int, metavar="N", help="llava, sharegpt, trl: leave out records "
        "with more than N images (counted in the loss report)",
    )  # fmt: skip
    parser.add_argument(
        "--max-chars", type=int, metavar="N", help="llava, sharegpt, trl: leave out records "
        "longer than N characters, placeholders included (counted)",
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("convert", help="convert between formats (see 'intermt formats')")
    add_input(p)
    p.add_argument("--to", dest="target", metavar="FMT", required=True, help="output format")
    p.add_argument("-o", "--output", required=True, help="output file (a folder for hf)")
    p.add_argument(
        "--mode",
        help="sharegpt, alpaca: sft|ranking; llava: sft|dpo; trl: sft|prompt-only|"
        "prompt-completion|preference|preference-implicit|kto; align-anything: "
        "supervised|preference|text-preference",
    )
    p.add_argument(
        "--style",
        help="sharegpt: role|from (role/content or from/value tags); trl: conversational|"
        "standard (plain strings)",
    )
    p.add_argument("--layout", help="intermt-bench (either side): flat|score|pair|upstream")
    p.add_argument("--level", help="parquet, hf: " + "|".join(LEVELS) + " (tree, path lossless)")
    p.add_argument(
        "--criterion",
        help="llava, sharegpt, trl: the judgment outcome that picks chosen/rejected: "
        "overall (default) or a dimension",
    )
    p.add_argument(
        "--images",
        choices=IMAGES,
        help="llava, sharegpt, trl: name image paths as they are (default), or copy/link",
    )
    p.add_argument("--images-root", help="folder the input's image paths are relative to")
    p.add_argument(
        "--assistant-images",
        choices=ASSISTANT_IMAGES,
        help="training formats: images inside answers move to the next question "
        "(default), or are dropped",
    )
    p.add_argument("--single-image", action="store_true", help="llava: original one-image LLaVA")
    p.add_argument("--urls", choices=["path", "data"], help="openai: image URLs (default path)")
    add_limits(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes for JSON Lines input (default 1); output order is kept",
    )
    p.set_defaults(run=run)
