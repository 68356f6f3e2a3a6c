"""The ``intermt`` command line: one module per command, each a thin layer over a
typed function that can be called from Python too.

Exit codes: 0 success; 1 the data has errors (unreadable or missing files included),
or the system refused (permission, disk full); 2 a usage error (an unknown option
value, a flag the chosen format does not take, an unknown format name, a missing
input, an output that is an input); 130 interrupted (Ctrl-C).

>>> import io
>>> out = io.StringIO()
>>> main(["formats"], out=out)
0
>>> out.getvalue().split()[0]
'align-anything'
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Sequence
from typing import IO

from .._errors import IntermtError, OptionError, UnknownNameError
from . import convert, export_all, info, pairs, publish, show, split, stats, validate
from ._accounting import UsageError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(prog="intermt", description=__doc__.splitlines()[0])
    version = importlib.metadata.version("intermt-schema")
    parser.add_argument("--version", action="version", version=f"intermt-schema {version}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (validate, convert):
        command.add_parser(sub)
    info.add_parsers(sub)
    for command in (stats, pairs, split, export_all, publish, show):
        command.add_parser(sub)
    for name, parser_of in sub.choices.items():
        if name not in ("formats", "schema"):  # every command that reads records
            parser_of.add_argument(
                "--rejects", metavar="FILE", help="write rejected records here, with reasons"
            )
        parser_of.add_argument(
            "-q", "--quiet", action="store_true", help="no progress bar (shown only on a terminal)"
        )
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args, out or sys.stdout)
    except (UsageError, OptionError, UnknownNameError) as exc:
        print(f"intermt: error: {exc}", file=sys.stderr)
        return 2
    except IntermtError as exc:
        print(f"intermt: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 1
    except KeyboardInterrupt:
        print("intermt: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # permission denied, disk full: one line, no traceback
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"intermt: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
