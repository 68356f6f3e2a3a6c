"""Typed usage of the public API, checked by ``mypy --strict`` (never run by pytest).

Each ``type: ignore[...]`` marks a mistake mypy must catch: with ``warn_unused_ignores``
(part of ``--strict``), an ignore that is no longer needed fails the check, so these
lines prove that misspelt options and wrong values are type errors in user code.
"""

from __future__ import annotations

from typing_extensions import assert_type

import intermt_schema as im
from intermt_schema.formats import llava, trl

tree = im.DialogueTree(
    id="t",
    nodes=[
        im.Message(id="q", role="user", content=[im.TextPart("What is this?")]),
        im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("A cat.")]),
    ],
)
assert_type(im.validate(tree), im.Report)
assert_type(im.validate(tree).ok, bool)

# formats: options are typed keyword arguments
fmt = im.get_format("trl")
assert_type(fmt, im.Format)
loss = fmt.export([tree], "memory://typing/sft.jsonl", mode="sft", images="reference")
assert_type(loss, im.LossReport)
fmt.export([tree], "memory://typing/x.jsonl", mdoe="sft")  # type: ignore[call-arg]
fmt.export([tree], "memory://typing/x.jsonl", images="embed")  # type: ignore[arg-type]
fmt.export([tree], "memory://typing/x.jsonl", level="rows")  # type: ignore[arg-type]
trl.export([tree], "memory://typing/x.jsonl", mode="dpo")  # type: ignore[arg-type]
llava.export([tree], "memory://typing/x.json", mode="ranking")  # type: ignore[arg-type]
assert_type(fmt.load("memory://typing/sft.jsonl"), im.ImportResult)
fmt.load("memory://typing/sft.jsonl", layuot="flat")  # type: ignore[call-arg]

# pairs: sampling options are typed too
pairs, report = im.sample_pairs([tree], strategy="best_worst", criterion="helpfulness")
assert_type(pairs, list[im.PreferencePair])
assert_type(report, im.PairReport)
im.sample_pairs([tree], strategy="best")  # type: ignore[arg-type]
im.sample_pairs([tree], stratgey="all")  # type: ignore[call-arg]
for each, found in im.iter_pairs([tree], scope="local"):
    assert_type(each, im.DialogueTree)
    assert_type(found, list[im.PreferencePair])

# tables and datasets take their level by keyword only
im.to_hf_dataset([tree], "path")  # type: ignore[call-arg]
im.to_hf_dataset([tree], level="paths")  # type: ignore[arg-type]
parts = im.split_trees([tree], [0.9, 0.1], group_by=["tree", "image"])
assert_type(parts, list[list[im.DialogueTree]])

# errors: one tree, each also a builtin
try:
    im.validate(tree).raise_for_errors()
except im.ValidationError as error:
    assert_type(error.report, im.Report)
