"""``intermt stats``: counts, score distributions, agreement and pair yield."""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO

import msgspec

from ..sampling.stats import plot_stats, render_stats, tree_stats
from ..validation._rules import ValidationOptions
from ._accounting import (
    add_input,
    read_trees,
    refuse_overwriting,
    rejects_file,
    source_format,
    tally_for,
)

__all__ = ["add_parser", "run", "stats"]


def stats(
    input: str,
    *,
    source: str | None = None,
    plot: str | None = None,
    rejects: str | None = None,
    report_format: str = "text",
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Print the statistics of ``input`` (see :func:`intermt_schema.tree_stats`), and
    with ``plot`` write score histograms there; returns the exit code."""
    refuse_overwriting([input], rejects, plot)
    from_name = source_format(input, source)
    tally = tally_for(quiet)
    with open(os.devnull, "w") as silent, rejects_file(rejects) as sink:
        # issues are counted, not listed, in a summary
        found = tree_stats(
            read_trees(input, from_name, ValidationOptions(), tally, silent, "text", sink)
        )
    if report_format == "json":
        out.write(msgspec.json.encode({**found, "records": tally.summary()}).decode() + "\n")
    else:
        out.write(render_stats(found) + "\n" + tally.render() + "\n")
    if plot:
        for path in plot_stats(found, plot):
            out.write(f"wrote {path}\n")
    return 1 if tally.failed else 0


def run(args: argparse.Namespace, out: IO[str]) -> int:
    return stats(
        args.input, source=args.source, plot=args.plot, rejects=args.rejects,
        report_format=args.format, quiet=args.quiet, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="count trees, paths, nodes, images, ratings, judgments")
    add_input(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--plot", metavar="DIR", help="also write PNG histograms (needs matplotlib)")
    p.set_defaults(run=run)
