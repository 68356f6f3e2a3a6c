"""``intermt formats`` and ``intermt schema``: what the library knows."""

from __future__ import annotations

import argparse
from typing import IO

__all__ = ["add_parsers"]


def _formats(args: argparse.Namespace, out: IO[str]) -> int:
    from ..formats._registry import available_formats

    for fmt in available_formats():
        kind = "lossless" if fmt.lossless else "lossy"
        options = sorted(set(fmt.export_options) - {"image_folder", "source_root"})
        taken = f" [options: {', '.join(options)}]" if options else ""
        out.write(f"{fmt.name:<14} {kind:<9} {fmt.description}{taken}\n")
    return 0


def _schema(args: argparse.Namespace, out: IO[str]) -> int:
    from ..schema._jsonschema import json_schema_text

    out.write(json_schema_text())
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("formats", help="list the registered formats and their options").set_defaults(
        run=_formats
    )
    sub.add_parser("schema", help="print the JSON Schema of a canonical tree").set_defaults(
        run=_schema
    )
