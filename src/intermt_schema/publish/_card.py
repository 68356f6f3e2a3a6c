"""The dataset card: a ``README.md`` whose YAML front matter the Hugging Face Hub reads
(configurations and their files, features, license, language, task categories, size
category) and whose body holds the statistics, the dimensions, each configuration's
loss report, how to load the dataset and how to cite it.

>>> info = CardInfo(pretty_name="Demo", license="cc-by-4.0")
>>> size_category(1500)
'1K<n<10K'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import OptionError, require
from ..io._arrow import arrow_schema, hf_features_dict
from ..schema._dimensions import DimensionSet
from ._shards import SplitShards

__all__ = ["INTERMT_CITATION", "CardInfo", "render_card", "size_category"]

INTERMT_CITATION = """@article{chen2025intermt,
  title   = {InterMT: Multi-Turn Interleaved Preference Alignment with Human Feedback},
  author  = {Chen, Boyuan and others},
  journal = {arXiv preprint arXiv:2505.23950},
  year    = {2025}
}"""
"""The paper whose data model the schema follows."""

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]*$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class CardInfo:
    """What a card says about the dataset beyond its data. Each value is checked here:
    a license or language is a Hub identifier (``cc-by-4.0``, ``en``), a repository
    ``owner/name``.

    >>> CardInfo(license="cc by")
    Traceback (most recent call last):
    ...
    intermt_schema.OptionError: license 'cc by' is not a Hub identifier such as cc-by-4.0 or other
    """

    pretty_name: str = "InterMT-style preference data"
    description: str = ""
    license: str = "other"
    language: Sequence[str] = ("en",)
    task_categories: Sequence[str] = ("image-text-to-text", "text-generation")
    tags: Sequence[str] = ("intermt", "preference", "multimodal", "multi-turn", "dialogue-tree")
    repo_id: str | None = None
    citation: str = ""
    version: str = "1.0.0"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _TOKEN.match(self.license):
            raise OptionError(
                f"license {self.license!r} is not a Hub identifier such as cc-by-4.0 or other"
            )
        for code in self.language:
            if not re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$", code):
                raise OptionError(f"language {code!r} is not a code such as en or zh")
        for name in (*self.task_categories, *self.tags):
            if not _TOKEN.match(name):
                raise OptionError(f"task category or tag {name!r} has characters the Hub refuses")
        if self.repo_id is not None and not _REPO.match(self.repo_id):
            raise OptionError(f"repository {self.repo_id!r} is not owner/name")
        if not _TOKEN.match(self.version):
            raise OptionError(f"version {self.version!r} is not a version such as 1.0.0")
        if not self.pretty_name.strip() or "\n" in self.pretty_name:
            raise OptionError("the pretty name must be one non-empty line")


def size_category(rows: int) -> str:
    """The Hub's size category for ``rows`` examples."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
              (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
              (100_000_000, "10M<n<100M")]  # fmt: skip
    for bound, name in bounds:
        if rows < bound:
            return name
    return "n>100M" if rows >= 1_000_000_000 else "100M<n<1B"


def _any_of(groups: Sequence[str]) -> str:
    names = {"tree": "tree", "prompt": "seed prompt", "image": "image"}
    words = [names.get(g, g) for g in groups]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def features_yaml(cls: type, hf_images: bool) -> list[dict[str, Any]]:
    """A row type's features as the card's ``dataset_info`` lists them."""
    datasets = require("datasets", "hf")
    if hf_images:
        features = datasets.Features.from_dict(hf_features_dict(cls))
    else:
        features = datasets.Features.from_arrow_schema(arrow_schema(False, cls))
    listed: list[dict[str, Any]] = features._to_yaml_list()
    return listed


def front_matter(
    info: CardInfo,
    written: Mapping[str, Mapping[str, SplitShards]],
    configs: Mapping[str, type],
    hf_images: bool,
) -> str:
    """The card's YAML header."""
    hub = require("huggingface_hub", "hf")
    trees = sum(s.rows for s in written.get("trees", {}).values())
    data = hub.DatasetCardData(
        pretty_name=info.pretty_name,
        license=info.license,
        language=list(info.language),
        task_categories=list(info.task_categories),
        size_categories=[size_category(trees)],
        tags=list(info.tags),
        configs=[
            {
                "config_name": config,
                "data_files": [
                    {"split": split, "path": f"data/{config}/{split}-*.parquet"} for split in splits
                ],
                **({"default": True} if config == "trees" else {}),
            }
            for config, splits in written.items()
        ],
        dataset_info=[
            {
                "config_name": config,
                "features": features_yaml(configs[config], hf_images),
                "splits": [
                    {"name": split, "num_bytes": s.bytes, "num_examples": s.rows}
                    for split, s in splits.items()
                ],
                "download_size": sum(s.bytes for s in splits.values()),
            }
            for config, splits in written.items()
        ],
    )
    return f"---\n{data.to_yaml()}\n---\n"


_ABOUT = {
    "trees": "one dialogue tree per row, lossless: every branch, rating and judgment",
    "paths": "one root-to-leaf conversation per row, with its ratings and judgments (lossless)",
    "pairs": "one sampled preference pair per row: the prompt, the chosen and the rejected "
    "continuation, and where the pair came from",
    "ratings": "one rating per row (flat), for analytics",
    "judgments": "one judgment per row (flat; outcomes as JSON text), for analytics",
}


def render_card(
    info: CardInfo,
    written: Mapping[str, Mapping[str, SplitShards]],
    configs: Mapping[str, type],
    *,
    hf_images: bool,
    stats_text: str,
    plots: Sequence[str],
    losses: Mapping[str, str],
    pair_options: Mapping[str, Any],
    dimensions: DimensionSet,
    split_rule: tuple[Sequence[str], Sequence[str], int],
    notes: Sequence[str] = (),
) -> str:
    """The whole ``README.md``; ``split_rule`` is ``(names, group_by, seed)``."""
    name = info.repo_id or "path/to/this/folder"
    lines = [front_matter(info, written, configs, hf_images), f"# {info.pretty_name}", ""]
    if info.description:
        lines += [info.description, ""]
    lines += [
        "Multi-turn, interleaved text-and-image preference data in the "
        "[intermt-schema](https://pypi.org/project/intermt-schema/) canonical form: dialogue "
        "trees whose messages hold ordered text and image parts, with ratings on answers and "
        "paths, and human judgments between them.", "",
        "## Configurations", "",
        "| configuration | what a row is | split | rows | shards | bytes |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]  # fmt: skip
    for config, splits in written.items():
        for split, s in splits.items():
            row = [f"`{config}`", _ABOUT[config], split, s.rows, len(s.files), s.bytes]
            lines.append("| " + " | ".join(map(str, row)) + " |")
    lines += [
        "", f"Splits ({', '.join(split_rule[0])}; empty ones are left out) share no "
        f"{_any_of(split_rule[1])} (seed {split_rule[2]}).", *(f"Note: {n}." for n in notes), "",
        "## How to load", "", "```python", "from datasets import load_dataset", "",
        f'pairs = load_dataset("{name}", "pairs")', f'trees = load_dataset("{name}", "trees")',
        "", "import intermt_schema as im",
        'tree_list = list(im.from_hf_dataset(trees["train"]))  # DialogueTree objects', "```", "",
        "Images are embedded in the Parquet files" + (" and load as PIL images." if hf_images
        else "; some images carry no bytes, so image columns are plain `{bytes, path}` structs."),
        "", "## Statistics", "", "```text", stats_text, "```", "",
    ]  # fmt: skip
    lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "## Dimensions", "", "| key | scope | scale | special | title |",
              "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for dim in dimensions:
        special = ", ".join(f"{k}: {v}" for k, v in dim.special.items()) or ""
        cells: list[str] = [f"`{dim.key}`", dim.scope, dim.scale(), special, dim.title]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Loss reports", "", "What each configuration could not hold, counted.", ""]
    for config, text in losses.items():
        lines += [f"**{config}**", "", "```text", text, "```", ""]
    lines += ["Pair sampling options:", "", "```text"]
    lines += [f"{k} = {v!r}" for k, v in pair_options.items()]
    lines += ["```", "", "## Citation", ""]
    if info.citation:
        lines += ["```bibtex", info.citation.strip(), "```", ""]
    lines += ["The data model follows InterMT:", "", "```bibtex", INTERMT_CITATION, "```", ""]
    return "\n".join(lines)
