"""``intermt show``: offline HTML pages of trees."""

from __future__ import annotations

import argparse
import sys
from typing import IO, TYPE_CHECKING

from .._errors import check_choice

if TYPE_CHECKING:
    from ..viewer import ImageMode
from ..io._fs import is_local
from ..validation._rules import ValidationOptions
from ._accounting import (
    UsageError,
    add_input,
    images_root_of,
    read_trees,
    refuse_overwriting,
    rejects_file,
    source_format,
    tally_for,
)

__all__ = ["add_parser", "run", "show"]


def show(
    input: str,
    output: str,
    *,
    tree: str | None = None,
    images: ImageMode = "inline",
    images_root: str | None = None,
    source: str | None = None,
    rejects: str | None = None,
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Write the HTML page of one tree (``tree``) at ``output``, or an index there and a
    page per tree beside it (see :func:`intermt_schema.viewer.write_pages`); returns
    the exit code."""
    from ..viewer import IMAGE_MODES, write_pages

    check_choice("images", images, IMAGE_MODES)
    if not is_local(output):
        raise UsageError("show writes pages that link each other: -o must be a local path")
    refuse_overwriting([input], output, rejects)
    from_name = source_format(input, source)
    root = images_root_of(input, images_root)
    tally = tally_for(quiet)
    with rejects_file(rejects) as sink:
        trees = read_trees(
            input, from_name, ValidationOptions(images_root=root), tally, out, "text", sink,
            per_file_images=images_root is None,
        )  # fmt: skip
        if tree is None:
            written = write_pages(trees, output, images=images, images_root=root)
        else:
            first = next((t for t in trees if t.id == tree), None)
            if first is None:
                out.write(tally.render() + "\n")
                raise UsageError(f"no tree with id {tree!r} in {input}")
            written = write_pages([first], output, images=images, images_root=root, single=True)
    out.write(tally.render() + "\n")
    pages = len(written) - (0 if tree is not None else 1)
    out.write(f"wrote {output} ({pages} tree page{'s' if pages != 1 else ''})\n")
    return 1 if tally.failed else 0


def run(args: argparse.Namespace, out: IO[str]) -> int:
    return show(
        args.input, args.output, tree=args.tree, images=args.images,
        images_root=args.images_root, source=args.source, rejects=args.rejects,
        quiet=args.quiet, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help="write HTML pages to look at trees (offline, one file each)")
    add_input(p)
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
    p.set_defaults(run=run)
