"""The ``intermt`` command line.

Exit codes: 0 success, 1 the data has errors (unreadable or missing files included),
2 a usage error (a bad option or an unknown format name).

>>> import io
>>> out = io.StringIO()
>>> main(["formats"], out=out)
0
>>> out.getvalue().split()[0]
'hf'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import IO

import msgspec

from . import __version__
from ._errors import IntermtError
from ._pipeline import UsageError, account, rejects_file, tally_for
from ._records import TreeIds, validate_path
from ._validate import ValidationOptions

__all__ = ["main"]


def _validate(args: argparse.Namespace, out: IO[str]) -> int:
    options = ValidationOptions(
        strict=args.strict,
        images_root=args.images_root,
        check_images=args.check_images,
        role_order=args.role_order,
    )
    tally = tally_for(args)
    with rejects_file(args) as sink:
        tree_ids = TreeIds()  # ids must be unique across every path given
        for path in args.paths:
            for result in validate_path(path, options, tree_ids=tree_ids):
                account(result, tally, out, args.format, sink, verbose=args.verbose)
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
    p.add_argument("-v", "--verbose", action="store_true", help="also print info-level notes")
    p.set_defaults(run=_validate)


def _schema(args: argparse.Namespace, out: IO[str]) -> int:
    from ._jsonschema import json_schema_text

    out.write(json_schema_text())
    return 0


def _add_schema(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of a canonical tree")
    p.set_defaults(run=_schema)


def _formats(args: argparse.Namespace, out: IO[str]) -> int:
    from .formats import available_formats

    for fmt in available_formats():
        kind = "lossless" if fmt.lossless else "lossy"
        out.write(f"{fmt.name:<14} {kind:<9} {fmt.description}\n")
    return 0


def _add_formats(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("formats", help="list the registered formats")
    p.set_defaults(run=_formats)


def _add_convert(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._pipeline import run_convert

    p = sub.add_parser("convert", help="convert between formats (see 'intermt formats')")
    p.add_argument("input", help="file, folder or fsspec URL")
    p.add_argument("--from", dest="source", metavar="FMT", help="input format (default: detect)")
    p.add_argument("--to", dest="target", metavar="FMT", required=True, help="output format")
    p.add_argument("-o", "--output", required=True, help="output file (a folder for hf)")
    p.add_argument("--mode", help="sharegpt: sft|ranking; llava: sft|dpo; trl: sft|preference|kto")
    p.add_argument("--layout", help="intermt-bench: flat|score|pair|upstream")
    p.add_argument("--level", help="parquet, hf: tree (lossless), path (lossless) or pair")
    p.add_argument(
        "--criterion",
        default="overall",
        help="which judgment outcome picks chosen/rejected: overall or a dimension",
    )
    p.add_argument(
        "--images",
        choices=["reference", "copy", "link"],
        default="reference",
        help="training formats: name image paths as they are, or copy/link the files",
    )
    p.add_argument("--images-root", help="folder the input's image paths are relative to")
    p.add_argument(
        "--assistant-images",
        choices=["move", "drop"],
        default="move",
        help="images inside answers: move to the next question, or drop",
    )
    p.add_argument("--single-image", action="store_true", help="llava: original one-image LLaVA")
    p.add_argument("--urls", choices=["path", "data"], default="path", help="openai image URLs")
    p.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes for JSON Lines input (default 1); output order is kept",
    )
    p.set_defaults(run=run_convert)


def _add_stats(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._pipeline import run_stats

    p = sub.add_parser("stats", help="count trees, paths, nodes, images, ratings, judgments")
    p.add_argument("input", help="file, folder or fsspec URL")
    p.add_argument("--from", dest="source", metavar="FMT", help="input format (default: detect)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--plot", metavar="DIR", help="also write PNG histograms (needs matplotlib)")
    p.set_defaults(run=run_stats)


def _add_pairs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._pipeline import run_pairs

    p = sub.add_parser("pairs", help="sample preference pairs and export them")
    p.add_argument("input", help="file, folder or fsspec URL")
    p.add_argument("--from", dest="source", metavar="FMT", help="input format (default: detect)")
    p.add_argument("--scope", choices=["local", "global", "both"], default="both")
    p.add_argument(
        "--source",
        dest="pair_source",
        choices=["judgments", "ratings", "both"],
        default="both",
        help="pairs from human judgments, from ratings, or both",
    )
    p.add_argument(
        "--strategy",
        choices=["all", "best_worst", "best_rest", "best_random"],
        default="best_worst",
    )
    p.add_argument(
        "--criterion",
        default="overall",
        help="overall | DIM | DIM=W,DIM=W (weighted) | lex:DIM,DIM | pareto",
    )
    p.add_argument("--dimensions", help="pareto: the dimensions compared, comma-separated")
    p.add_argument("--margin", type=float, default=0.0, help="least score difference to pair")
    p.add_argument("--ties", choices=["drop", "keep"], default="drop")
    p.add_argument(
        "--aggregate",
        choices=["mean", "median", "majority"],
        default="mean",
        help="how several annotators' scores combine",
    )
    p.add_argument("--cap-per-branch", type=int)
    p.add_argument("--cap-per-tree", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--images-root", help="folder the input's image paths are relative to")
    p.add_argument(
        "--to",
        dest="target",
        required=True,
        help="pairs | trl | kto | sharegpt | llava-dpo | intermt-bench",
    )
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(run=run_pairs)


def _add_split(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._pipeline import run_split

    p = sub.add_parser("split", help="split trees into parts that share no tree, prompt or image")
    p.add_argument("input", help="file, folder or fsspec URL")
    p.add_argument("--from", dest="source", metavar="FMT", help="input format (default: detect)")
    p.add_argument("--fractions", default="0.9,0.05,0.05")
    p.add_argument("--group-by", default="tree", help="tree,prompt,image: what may not straddle")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="folder for train/validation/test.jsonl")
    p.set_defaults(run=run_split)


def _add_export_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._pipeline import run_export_all

    p = sub.add_parser("export-all", help="validate, then convert to every format and mode")
    p.add_argument("input", help="canonical file or folder")
    p.add_argument("-o", "--output", required=True, help="folder for the outputs")
    p.add_argument("--check-images", action="store_true", help="open and decode every image")
    p.set_defaults(run=run_export_all)


def _add_show(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._pipeline import run_show

    p = sub.add_parser("show", help="write HTML pages to look at trees (offline, one file each)")
    p.add_argument("input", help="file, folder or fsspec URL")
    p.add_argument("--from", dest="source", metavar="FMT", help="input format (default: detect)")
    p.add_argument("--tree", metavar="ID", help="one tree: write its page at OUT")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.html",
        help="the page, or for many trees an index (pages go to OUT_trees/)",
    )
    p.add_argument(
        "--images",
        choices=["inline", "link"],
        default="inline",
        help="inline images as data URIs (self-contained) or link them by relative path",
    )
    p.add_argument("--images-root", help="folder the input's image paths are relative to")
    p.set_defaults(run=run_show)


COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_validate,
    _add_convert,
    _add_formats,
    _add_stats,
    _add_pairs,
    _add_split,
    _add_export_all,
    _add_show,
    _add_schema,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command."""
    parser = argparse.ArgumentParser(prog="intermt", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"intermt-schema {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    for name, command in sub.choices.items():
        if name not in ("formats", "schema"):  # every command that reads records
            command.add_argument(
                "--rejects", metavar="FILE", help="write rejected records here, with reasons"
            )
        command.add_argument(
            "-q", "--quiet", action="store_true", help="no progress bar (shown only on a terminal)"
        )
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
