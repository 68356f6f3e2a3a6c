"""Every option is checked where it enters: unknown values list the valid ones, and a
flag the chosen format does not take names the formats that do (exit 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import intermt_schema as im
from intermt_schema.cli import main

from .conftest import EXAMPLES

TREES = EXAMPLES / "trees.jsonl"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_parquet_level_path_writes_path_rows(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "paths.parquet"
    code, text = run("convert", str(TREES), "--to", "parquet", "--level", "path", "-o", str(target))
    assert code == 0, text
    table = pq.read_table(target)
    expected = sum(len(im.TreeView(t).paths()) for t in im.read_jsonl(str(TREES)))
    assert table.num_rows == expected
    assert {"tree_id", "end", "messages"} <= set(table.column_names)
    assert "parquet (path table)" in text


def test_hf_level_pair_writes_pair_rows(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    target = tmp_path / "hf"
    code, text = run("convert", str(TREES), "--to", "hf", "--level", "pair", "-o", str(target))
    assert code == 0, text
    dataset = datasets.load_from_disk(str(target))
    assert {"prompt", "a", "b", "outcomes"} <= set(dataset.column_names)
    siblings = sum(
        1
        for t in im.read_jsonl(str(TREES))
        for j in t.judgments
        if im.TreeView(t).by_id[j.a].parent == im.TreeView(t).by_id[j.b].parent
    )
    assert dataset.num_rows == siblings > 0


def test_unknown_level_exits_2_and_lists_the_levels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("convert", str(TREES), "--to", "parquet", "--level", "nonsense",
                  "-o", str(tmp_path / "x.parquet"))  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown level 'nonsense'; choose from tree, path, pair" in err
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "trl", "--single-image"], "--single-image is not an option of trl; "
         "formats that take it: llava"),
        (["--to", "trl", "--urls", "data"], "--urls is not an option of trl; formats that "
         "take it: openai"),
        (["--to", "trl", "--layout", "pair"], "--layout is not an option of trl; formats "
         "that take it: intermt-bench, intermt-bench (as --from)"),
        (["--to", "jsonl", "--level", "path"], "--level is not an option of jsonl; formats "
         "that take it: hf, parquet"),
        (["--to", "llava", "--mode", "ranking"], "llava: unknown mode 'ranking'; choose "
         "from sft, dpo"),
        (["--to", "sharegpt", "--mode", "dpo"], "sharegpt: unknown mode 'dpo'; choose from "
         "sft, ranking"),
        (["--to", "trl", "--criterion", "text_qualty"], "trl: unknown criterion 'text_qualty'"),
        (["--to", "openai", "--images", "copy"], "--images is not an option of openai; "
         "formats that take it: align-anything, alpaca, llamafactory-v1, llava, sharegpt, trl"),
        (["--to", "parquet", "--workers", "0"], "--workers must be at least 1, not 0"),
    ],
)  # fmt: skip
def test_misused_convert_flags_exit_2_with_the_reason(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("convert", str(TREES), *args, "-o", str(tmp_path / "out.json"))
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_validate_refuses_workers_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("validate", str(TREES), "--workers", "0")
    assert code == 2
    assert "--workers must be at least 1, not 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("trl", {"mode": "dpo"}, "trl: unknown mode 'dpo'; choose from sft, prompt-only, "
         "prompt-completion, preference, preference-implicit, kto"),
        ("llava", {"mode": "ranking"}, "llava: unknown mode 'ranking'"),
        ("trl", {"single_image": True}, "trl takes no option 'single_image'"),
        ("parquet", {"level": "rows"}, "parquet: unknown level 'rows'"),
        ("openai", {"urls": "inline"}, "openai: unknown urls 'inline'; choose from path, data"),
        ("sharegpt", {"criterion": "overal"}, "sharegpt: unknown criterion 'overal'"),
        ("llava", {"single_image": "yes"}, "single_image must be a bool"),
        ("jsonl", {"source_root": "."}, "jsonl takes no option 'source_root'"),
    ],
)  # fmt: skip
def test_format_export_checks_every_option(
    name: str, options: dict[str, object], message: str, tmp_path: Path
) -> None:
    fmt = im.get_format(name)
    with pytest.raises(im.OptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fmt.export(im.read_jsonl(str(TREES)), str(tmp_path / "out"), **options)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_format_load_checks_its_options() -> None:
    with pytest.raises(im.OptionError, match="unknown layout 'grid'"):
        im.get_format("intermt-bench").load(str(TREES), layout="grid")  # type: ignore[arg-type]
    with pytest.raises(im.OptionError, match=r"trl \(load\) takes no option 'layout'"):
        im.get_format("trl").load(str(TREES), layout="flat")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strategy": "best"}, "unknown strategy 'best'; choose from all, best_worst"),
        ({"criterion": "text_qualty"}, "unknown dimension 'text_qualty'"),
        ({"criterion": ["helpfulness", "helpfulnes"]}, "unknown dimension 'helpfulnes'"),
        ({"criterion": {"text_quality": 1.0, "x": 1.0}}, "unknown dimension 'x'"),
        ({"criterion": "pareto"}, "pareto compares two or more dimensions"),
        ({"criterion": "helpfulness", "dimensions": ["a"]}, "pareto criterion only"),
        ({"aggregate": "mode"}, "unknown aggregate 'mode'"),
        ({"scope": "tree"}, "unknown scope 'tree'"),
        ({"source": "votes"}, "unknown source 'votes'"),
        ({"ties": "split"}, "unknown ties 'split'"),
        ({"cap_per_tree": 0}, "cap_per_tree must be at least 1"),
        ({"margin": -1.0}, "margin must not be negative"),
        ({"seeds": 3}, "unknown pair options \\['seeds'\\]"),
    ],
)
def test_pair_sampling_checks_every_option(options: dict[str, object], message: str) -> None:
    trees = list(im.read_jsonl(str(TREES)))
    with pytest.raises(im.OptionError, match=message):
        im.sample_pairs(trees, **options)  # type: ignore[arg-type]
    if "seeds" in options:  # a keyword iter_pairs does not name: Python's own TypeError
        with pytest.raises(TypeError, match="seeds"):
            im.iter_pairs(trees, **options)  # type: ignore[arg-type]
    else:
        with pytest.raises(im.OptionError, match=message):
            im.iter_pairs(trees, **options)  # type: ignore[arg-type]


def test_split_checks_its_groups_and_fractions() -> None:
    trees = list(im.read_jsonl(str(TREES)))
    with pytest.raises(im.OptionError, match="unknown group_by 'images'; choose from tree"):
        im.split_trees(trees, [0.5, 0.5], group_by=["images"])
    with pytest.raises(im.OptionError, match="group_by must be a sequence"):
        im.split_trees(trees, [0.5, 0.5], group_by="image")
    with pytest.raises(im.OptionError, match="fractions must be non-negative"):
        im.split_trees(trees, [0.5, -0.5])


def test_cli_pairs_and_split_refuse_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("pairs", str(TREES), "--to", "trl", "--criterion", "lex:helpfulness,nope",
                  "-o", str(tmp_path / "p.jsonl"))  # fmt: skip
    assert code == 2 and "unknown dimension 'nope'" in capsys.readouterr().err
    code, _ = run("split", str(TREES), "--group-by", "tree,images", "-o", str(tmp_path / "s"))
    assert code == 2 and "unknown group_by 'images'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_to_hf_dataset_is_keyword_only_and_checks_its_level() -> None:
    pytest.importorskip("datasets")
    trees = list(im.read_jsonl(str(TREES)))
    with pytest.raises(TypeError):
        im.to_hf_dataset(trees, "examples/data")  # type: ignore[misc]
    with pytest.raises(im.OptionError, match="unknown level 'paths'"):
        im.to_hf_dataset(trees, level="paths")  # type: ignore[arg-type]
    paths = im.to_hf_dataset(trees, level="path")
    assert sum(1 for _ in im.from_hf_dataset(paths)) == len(trees)
    with pytest.raises(im.ConversionError, match="pair-level dataset is a view"):
        list(im.from_hf_dataset(im.to_hf_dataset(trees, level="pair")))


def test_formats_lists_each_formats_options() -> None:
    code, text = run("formats")
    assert code == 0
    lines = {line.split()[0]: line for line in text.splitlines()}
    llava = "assistant_images, criterion, images, max_chars, max_images, mode, single_image"
    assert f"[options: {llava}]" in lines["llava"]
    assert "[options: level]" in lines["parquet"]
    assert "options" not in lines["jsonl"]


def test_batch_functions_check_options_before_any_row() -> None:
    from intermt_schema.scale import convert_batch, pairs_batch

    with pytest.raises(im.OptionError, match="trl: unknown mode 'dpo'"):
        convert_batch({"text": []}, "trl", mode="dpo")
    with pytest.raises(im.OptionError, match="unknown strategy 'best'"):
        pairs_batch({"text": []}, strategy="best")  # type: ignore[typeddict-item]


def test_json_report_is_checked(tmp_path: Path) -> None:
    code, text = run("validate", str(TREES), "--format", "json")
    assert code == 0 and json.loads(text.splitlines()[-1])["summary"]["read"] == 6
