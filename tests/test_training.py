"""What the training exports need besides their records: images placed where the
trainer looks, columns the collators accept, lengths to pick a cutoff by, and filters.

The trainers themselves run in ``tests/trainers/run.sh`` (their own environments)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from msgspec import structs

import intermt_schema as im
from intermt_schema.cli import main

from .conftest import EXAMPLES, fixture_path


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def _rows(path: Path) -> list[dict[str, object]]:
    text = path.read_text()
    if path.suffix == ".json":
        rows: list[dict[str, object]] = json.loads(text)
        return rows
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _text_only(tree: im.DialogueTree) -> im.DialogueTree:
    nodes = [
        structs.replace(
            n, content=[p for p in n.content if type(p) is not im.ImagePart] or [im.TextPart("-")]
        )
        for n in tree.nodes
    ]
    return structs.replace(tree, id=f"{tree.id}-text", nodes=nodes)


def test_pairs_copy_images_beside_a_llamafactory_dataset(tmp_path: Path) -> None:
    out = tmp_path / "lf" / "p.json"
    code, text = run("pairs", str(EXAMPLES), "--to", "sharegpt", "--images", "copy", "-o", str(out))
    assert code == 0, text
    rows = _rows(out)
    named = [name for row in rows for name in row.get("images", [])]  # type: ignore[attr-defined]
    assert named and all((out.parent / name).is_file() for name in named)
    assert "p" in json.loads((out.parent / "dataset_info.json").read_text())


def test_pairs_refuse_flags_their_target_cannot_use(tmp_path: Path) -> None:
    out = str(tmp_path / "p.jsonl")
    code, _ = run("pairs", str(EXAMPLES), "--to", "pairs", "--images", "copy", "-o", out)
    assert code == 2
    code, _ = run("pairs", str(EXAMPLES), "--to", "pairs", "--max-chars", "9", "-o", out)
    assert code == 2
    assert not Path(out).exists()


def test_trl_rows_of_a_mixed_dataset_all_have_an_images_list(tmp_path: Path) -> None:
    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    mixed = [_text_only(t) if i % 2 else t for i, t in enumerate(trees)]
    trl = im.get_format("trl")
    loss = trl.export(mixed, str(tmp_path / "mixed.jsonl"), source_root=str(EXAMPLES))
    rows = _rows(tmp_path / "mixed.jsonl")
    assert all(isinstance(row.get("images"), list) for row in rows)
    assert {bool(row["images"]) for row in rows} == {True, False}
    assert loss.images == sum(len(row["images"]) for row in rows)  # type: ignore[arg-type]
    trl.export([_text_only(t) for t in trees], str(tmp_path / "text.jsonl"))
    assert all("images" not in row for row in _rows(tmp_path / "text.jsonl"))


def test_a_folder_of_data_files_resolves_images_next_to_each_file(tmp_path: Path) -> None:
    source = tmp_path / "contributed"
    shutil.copytree(EXAMPLES, source / "batch-1")
    out = tmp_path / "lf" / "sft.json"
    code, text = run("convert", str(source), "--to", "sharegpt", "--images", "copy", "-o", str(out))
    assert code == 0, text
    assert "not found" not in text
    named = [name for row in _rows(out) for name in row.get("images", [])]  # type: ignore[attr-defined]
    assert named and all(name.startswith("batch-1/images/") for name in named)
    assert all((out.parent / name).is_file() for name in named)


def test_length_filters_leave_records_out_and_count_them(tmp_path: Path) -> None:
    out = tmp_path / "sft.json"
    code, text = run("convert", str(EXAMPLES), "--to", "sharegpt", "--max-images", "1",
                     "-o", str(out))  # fmt: skip
    assert code == 0, text
    rows = _rows(out)
    left_out = int(text.split("records over --max-images 1 ")[1].split(";")[0].split(",")[0])
    assert left_out > 0 and all(len(row.get("images", [])) <= 1 for row in rows)  # type: ignore[arg-type]
    everything = _rows(_export(tmp_path / "all.json"))
    assert len(rows) + left_out == len(everything)
    code, text = run("convert", str(EXAMPLES), "--to", "trl", "--max-chars", "0", "-o", str(out))
    assert code == 2


def _export(path: Path) -> Path:
    assert run("convert", str(EXAMPLES), "--to", "sharegpt", "-o", str(path))[0] == 0
    return path


def test_stats_give_the_lengths_of_the_records_the_exports_write(tmp_path: Path) -> None:
    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    lengths = im.tree_stats(trees)["lengths"]
    sft = _rows(_export(tmp_path / "sft.json"))
    images = sorted(len(row.get("images", [])) for row in sft)  # type: ignore[arg-type]
    assert lengths["sft"]["images"] == {
        "records": len(sft), "median": images[(len(images) + 1) // 2 - 1],
        "p95": images[-(len(images) // 20) - 1] if len(images) >= 20 else images[-1],
        "max": images[-1],
    }  # fmt: skip
    chars = [sum(len(m["content"]) for m in row["messages"]) for row in sft]  # type: ignore[attr-defined]
    assert lengths["sft"]["chars"]["max"] == max(chars)
    code, text = run("stats", str(EXAMPLES))
    assert code == 0 and "record lengths" in text and f"{len(sft)} records" in text


def test_pair_reports_say_why_pairs_are_missing(tmp_path: Path) -> None:
    code, text = run("pairs", str(EXAMPLES), "--to", "sharegpt", "-o", str(tmp_path / "p.json"))
    assert code == 0 and "global pairs of whole paths" in text
    assert "judgments whose targets are not siblings" not in text
    bench = fixture_path("intermt_bench", "crucial_step_sample.json")
    code, text = run("pairs", str(bench), "--to", "pairs", "-o", str(tmp_path / "b.jsonl"))
    assert "missing a criterion dimension (rated: crucial_step_recognition)" in text
    assert "hint: the ratings lack dimensions the criterion needs" in text
    code, text = run("pairs", str(bench), "--to", "pairs", "--criterion",
                     "crucial_step_recognition", "-o", str(tmp_path / "b.jsonl"))  # fmt: skip
    assert "hint" not in text
