"""``intermt export-all``: validate once, then write every format in every mode."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import IO, Any

from ..formats._registry import available_formats, get_format
from ..io._fs import staged_folder
from ..validation._rules import ValidationOptions
from ._accounting import (
    add_check_media,
    images_root_of,
    read_trees,
    refuse_overwriting,
    rejects_file,
    tally_for,
)

__all__ = ["EXPORT_PLAN", "add_parser", "export_all", "run"]

EXPORT_PLAN: list[tuple[str, dict[str, Any], str]] = [
    ("jsonl", {}, "trees.jsonl"),
    ("parquet", {}, "trees.parquet"),
    ("parquet", {"level": "path"}, "paths.parquet"),
    ("parquet", {"level": "pair"}, "pairs.parquet"),
    ("hf", {}, "hf"),
    ("intermt-bench", {"layout": "flat"}, "intermt_flat.json"),
    ("intermt-bench", {"layout": "pair"}, "intermt_pair.json"),
    ("llava", {"mode": "sft"}, "llava/llava.json"),
    ("llava", {"mode": "dpo"}, "llava/llava_dpo.json"),
    ("sharegpt", {"mode": "sft"}, "llamafactory/intermt_sft.json"),
    ("sharegpt", {"mode": "ranking"}, "llamafactory/intermt_ranking.json"),
    ("alpaca", {"mode": "sft"}, "llamafactory/intermt_alpaca.json"),
    ("alpaca", {"mode": "ranking"}, "llamafactory/intermt_alpaca_ranking.json"),
    ("trl", {"mode": "sft"}, "trl/sft.jsonl"),
    ("trl", {"mode": "prompt-only"}, "trl/prompt_only.jsonl"),
    ("trl", {"mode": "prompt-completion"}, "trl/prompt_completion.jsonl"),
    ("trl", {"mode": "preference"}, "trl/preference.jsonl"),
    ("trl", {"mode": "preference-implicit"}, "trl/preference_implicit.jsonl"),
    ("trl", {"mode": "kto"}, "trl/kto.jsonl"),
    ("trl", {"mode": "stepwise"}, "trl/stepwise.jsonl"),
    ("openai", {}, "openai.jsonl"),
    ("align-anything", {"mode": "supervised"}, "align_anything/supervised.json"),
    ("align-anything", {"mode": "preference"}, "align_anything/preference.json"),
    ("align-anything", {"mode": "text-preference"}, "align_anything/text_preference.json"),
    ("oasst", {}, "oasst.jsonl"),
    ("llamafactory-v1", {"mode": "sft"}, "llamafactory/v1_sft.jsonl"),
    ("llamafactory-v1", {"mode": "dpo"}, "llamafactory/v1_dpo.jsonl"),
]


"""What ``export-all`` writes: every registered format, in every mode."""


def export_all(
    input: str,
    output: str,
    *,
    check_images: bool = False,
    rejects: str | None = None,
    quiet: bool = True,
    out: IO[str] = sys.stdout,
) -> int:
    """Validate the canonical ``input`` once, then write every output of
    :data:`EXPORT_PLAN` under ``output`` (training formats with their images copied);
    returns the exit code."""
    from ..io._jsonl import read_jsonl, write_jsonl

    refuse_overwriting([input], output, rejects)
    root = images_root_of(input, None)
    checks = ValidationOptions(images_root=root, check_images=check_images)
    tally = tally_for(quiet)
    names = {f.name for f in available_formats()}
    losses = []
    with tempfile.TemporaryDirectory() as tmp:
        # validate once; every export then streams the accepted trees back
        accepted = os.path.join(tmp, "accepted.jsonl")
        with rejects_file(rejects) as sink:
            trees = read_trees(
                input, "jsonl", checks, tally, out, "text", sink, per_file_images=True
            )
            count = write_jsonl(trees, accepted)
        out.write(tally.render() + "\n")
        with staged_folder(output) as folder:  # every export, or none: one generation
            for name, extra, relative in EXPORT_PLAN:
                if name not in names:
                    continue
                fmt = get_format(name)
                chosen: dict[str, Any] = dict(extra)
                if "source_root" in fmt.export_options:
                    chosen["source_root"] = root
                if "images" in fmt.export_options:
                    chosen["images"] = "copy"
                loss = fmt.export(read_jsonl(accepted), os.path.join(folder, relative), **chosen)
                losses.append(loss)
                out.write(f"{relative:<36} {loss.render()}\n")
    out.write(f"wrote {len(losses)} exports of {count} trees to {output}\n")
    return 1 if tally.failed else 0


def run(args: argparse.Namespace, out: IO[str]) -> int:
    return export_all(
        args.input, args.output, check_images=args.check_images, rejects=args.rejects,
        quiet=args.quiet, out=out,
    )  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export-all", help="validate, then convert to every format and mode")
    p.add_argument("input", help="canonical file or folder")
    p.add_argument("-o", "--output", required=True, help="folder for the outputs")
    add_check_media(p)
    p.set_defaults(run=run)
