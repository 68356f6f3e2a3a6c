"""A LLaMA-Factory data folder imports every dataset its ``dataset_info.json``
declares, honouring each entry's formatting, columns and tags; entries that point
elsewhere are reported, never fetched."""

from __future__ import annotations

import json
from pathlib import Path

import intermt_schema as im
from intermt_schema.io._json_records import read_json_records

from .conftest import EXAMPLES


def _records(path: Path) -> list[dict]:
    return [r for _, r, _, _ in read_json_records(str(path))]


def test_a_folder_with_renamed_columns_and_tags_reads_like_the_default_layout(
    tmp_path: Path,
) -> None:
    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    folder = tmp_path / "lf"
    im.get_format("sharegpt").export(trees, str(folder / "plain.json"))
    im.get_format("alpaca").export(trees, str(folder / "plain_alpaca.json"))
    names = {"user": "me", "assistant": "bot", "system": "sys"}
    custom = [{"dialog": [{"speaker": names[t["role"]], "text": t["content"]}
                          for t in r["messages"]],
               **({"pictures": r["images"]} if "images" in r else {})}
              for r in _records(folder / "plain.json")]  # fmt: skip
    (folder / "custom.json").write_text(json.dumps(custom))
    renamed = [{("q" if k == "instruction" else "a" if k == "output" else k): v
                for k, v in r.items()} for r in _records(folder / "plain_alpaca.json")]  # fmt: skip
    (folder / "custom_alpaca.json").write_text(json.dumps(renamed))
    info = {
        "custom": {"file_name": "custom.json", "formatting": "sharegpt",
                   "columns": {"messages": "dialog", "images": "pictures"},
                   "tags": {"role_tag": "speaker", "content_tag": "text", "user_tag": "me",
                            "assistant_tag": "bot", "system_tag": "sys"}},
        "custom_alpaca": {"file_name": "custom_alpaca.json",
                          "columns": {"prompt": "q", "response": "a"}},
        "from_the_hub": {"hf_hub_url": "someone/dataset"},
        "outside": {"file_name": "../outside.json", "formatting": "sharegpt"},
    }  # fmt: skip
    (folder / "dataset_info.json").write_text(json.dumps(info))
    assert im.detect_format(str(folder)) == "llamafactory"
    result = im.get_format("llamafactory").load(str(folder))
    expected = [
        im.get_format(fmt).load(str(folder / name))
        for fmt, name in (("sharegpt", "plain.json"), ("alpaca", "plain_alpaca.json"))
    ]
    assert result.records == sum(e.records for e in expected) > 0
    assert not result.rejected and not result.dropped
    want = sorted(im.encode_tree(t) for e in expected for t in e.trees)
    assert sorted(im.encode_tree(t) for t in result.trees) == want
    problems = sorted(i.message for i in result.issues)
    assert len(problems) == 2
    assert "dataset 'from_the_hub': it names hf_hub_url, which is not fetched" in problems[0]
    assert "dataset 'outside'" in problems[1] and "escapes" in problems[1]


def test_the_cli_reads_a_folder_by_its_dataset_info_and_refuses_to_write_one(
    tmp_path: Path,
) -> None:
    import contextlib
    import io

    from intermt_schema.cli import main

    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    folder = tmp_path / "lf"
    loss = im.get_format("sharegpt").export(trees, str(folder / "sft.json"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["convert", str(folder), "--to", "jsonl", "-o", str(tmp_path / "t.jsonl")],
                    out=out)  # fmt: skip
    assert code == 0, err.getvalue()
    said = out.getvalue() + err.getvalue()
    assert f"{loss.records} records read: {loss.records} accepted" in said
    with contextlib.redirect_stderr(err):
        code = main(["convert", str(tmp_path / "t.jsonl"), "--to", "llamafactory",
                     "-o", str(tmp_path / "back")], out=out)  # fmt: skip
    assert code == 2 and "is read, not written" in err.getvalue()
    assert not (tmp_path / "back").exists()
