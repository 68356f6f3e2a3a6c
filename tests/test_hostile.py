"""Hostile input: nothing a stranger's file holds may raise, hang or leave half a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.formats import available_formats
from intermt_schema.testing import json_values, trees

from .conftest import EXAMPLES

lines = st.one_of(
    st.binary(max_size=200).filter(lambda b: b"\n" not in b),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.builds(lambda t: im.encode_tree(t), trees(max_nodes=4)),
    st.builds(lambda t, n: im.encode_tree(t)[:n], trees(max_nodes=4), st.integers(0, 80)),
    st.sampled_from(
        [
            b'{"id": "x", "nodes": NaN}',
            b'{"id": "x", "id": "y", "nodes": []}',
            b"[" * 5000,
            b'{"id": "t", "nodes": [{"id": "a", "parent": "a", '
            b'"role": "user", "content": [{"type": "text", "text": "x"}]}]}',
        ]
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(lines, min_size=1, max_size=6))
def test_any_jsonl_bytes_are_accounted_for_and_never_raise(tmp_path_factory, records) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_bytes(b"\n".join(records) + b"\n")
    results = list(im.validate_path(str(path)))
    non_blank = sum(1 for r in records if r.strip())
    assert len(results) == non_blank
    assert all(r.accepted or r.report.errors for r in results)


@pytest.mark.parametrize("name", [f.name for f in available_formats() if f.name != "hf"])
@settings(max_examples=25, deadline=None)
@given(values=st.lists(json_values, min_size=1, max_size=4), array=st.booleans())
def test_every_reader_survives_arbitrary_json(name, values, array, tmp_path_factory) -> None:
    from intermt_schema.formats import get_format

    folder = tmp_path_factory.mktemp(name)
    path = folder / ("f.json" if array else "f.jsonl")
    if name == "parquet":
        path = folder / "f.parquet"
        path.write_bytes(json.dumps(values).encode())  # not Parquet at all
    else:
        path.write_text(json.dumps(values) if array else "\n".join(map(json.dumps, values)))
    result = get_format(name).load(str(path))  # never raises: problems are issues
    unreadable = [i for i in result.issues if i.code == "file.unreadable"]
    if unreadable:  # not this format's kind of file at all: nothing was read
        assert result.records == 0 and not result.trees
    else:  # every value was read as a record
        assert result.records == len(values)
    assert all(isinstance(tree, im.DialogueTree) for tree in result.trees)


def test_truncated_parquet_is_a_file_issue(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    source = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    target = tmp_path / "t.parquet"
    im.write_parquet(source, str(target))
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    results = list(im.validate_path(str(target)))
    assert [r.report.issues[0].code for r in results] == ["file.unreadable"]


def test_killing_a_conversion_leaves_no_partial_file(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    tree = next(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    im.write_jsonl((tree for _ in range(4000)), str(big))
    target = tmp_path / "out" / "sft.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "intermt_schema.cli",
            "convert",
            str(big),
            "--to",
            "sharegpt",
            "-o",
            str(target),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it is writing its temporary file
        if target.parent.exists() and any(p.name.endswith(".tmp") for p in target.parent.iterdir()):
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists()


def test_hostile_image_paths_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"x")
    root = tmp_path / "data"
    root.mkdir()
    for path, code in [
        ("../secret.png", "image.escapes_root"),
        ("/etc/passwd", "image.absolute_path"),
        ("file:///etc/passwd", "image.path_is_url"),
        ("a\\..\\..\\x", "image.not_posix"),
        ("images/%2e%2e/x.png", "image.missing"),
    ]:
        tree = im.DialogueTree(
            id="t",
            nodes=[
                im.Message(
                    id="q", role="user", content=[im.ImagePart(image=im.ImageRef(path=path))]
                )
            ],
        )
        options = im.ValidationOptions(check_images=True, images_root=str(root))
        assert [i.code for i in im.validate(tree, options)] == [code], path


def _star(nodes: int) -> bytes:
    """A tree of one question and ``nodes - 1`` sibling answers, as JSON."""
    answer = b'{"id":"a%d","parent":"q","role":"assistant","content":[]}'
    parts = [b'{"id":"q","role":"user","content":[{"type":"text","text":"Q"}]}']
    parts += [answer % i for i in range(nodes - 1)]
    return b'{"id":"star","nodes":[' + b",".join(parts) + b"]}"


def test_a_million_node_tree_validates_and_one_more_is_over_the_limit(tmp_path: Path) -> None:
    limit = im.ValidationOptions().max_nodes
    path = tmp_path / "star.jsonl"
    path.write_bytes(_star(limit) + b"\n" + _star(limit + 1) + b"\n")
    first, second = im.validate_path(str(path))
    assert first.accepted and len(first.tree.nodes) == 1_000_000
    assert not second.accepted
    assert "tree.too_large" in second.report.codes()


def test_a_100_mb_text_field_is_read_or_refused_by_the_record_limit(tmp_path: Path) -> None:
    text = "x" * (100 * 1024 * 1024)
    tree = im.DialogueTree(
        id="big", nodes=[im.Message(id="q", role="user", content=[im.TextPart(text)])]
    )
    path = tmp_path / "big.jsonl"
    im.write_jsonl([tree, tree], str(path))
    assert [r.accepted for r in im.validate_path(str(path))] == [True, True]
    limited = list(im.validate_path(str(path), max_record_bytes=64 * 1024 * 1024))
    assert [r.report.issues[0].code for r in limited] == ["record.too_large"] * 2
    assert [r.line for r in limited] == [1, 2]


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_refused_where_a_score_is_expected(literal: bytes) -> None:
    record = (
        b'{"id":"t","nodes":[{"id":"q","role":"user","content":[]},'
        b'{"id":"a","parent":"q","role":"assistant","content":[]}],'
        b'"ratings":[{"target":"a","scope":"local","dimension":"text_quality","score":'
        + literal
        + b"}]}"
    )
    _, report = im.decode_and_validate(record)
    assert not report.ok
    assert {i.code for i in report.errors} <= {"schema.json", "schema.type"}


def test_duplicate_keys_take_the_last_value_as_json_parsers_do() -> None:
    record = b'{"id":"first","id":"last","nodes":[{"id":"q","role":"user","content":[]}]}'
    tree, _ = im.decode_and_validate(record)
    assert tree is not None and tree.id == "last"


def test_ids_that_collide_across_files_are_reported_with_both_places(tmp_path: Path) -> None:
    from intermt_schema.cli import main

    line = (EXAMPLES / "trees.jsonl").read_text().splitlines()[0]
    (tmp_path / "a.jsonl").write_text(line + "\n")
    (tmp_path / "b.jsonl").write_text(line + "\n")
    out = tmp_path / "log.txt"
    with out.open("w") as f:
        assert main(["validate", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")], out=f) == 0
        assert main(["validate", "--strict", str(tmp_path)], out=f) == 1
    log = out.read_text()
    assert f"{tmp_path / 'b.jsonl'}:1: tree example-00: warning corpus.duplicate_tree_id" in log
    assert f"already used at {tmp_path / 'a.jsonl'}:1" in log
    assert "error corpus.duplicate_tree_id" in log


def test_invalid_utf8_inside_a_json_string_is_a_schema_json_error() -> None:
    # found by the atheris harness: msgspec raises UnicodeDecodeError here
    record = b'{"id": "t\xcf", "nodes": []}'
    tree, report = im.decode_and_validate(record)
    assert tree is None
    assert [i.code for i in report.errors] == ["schema.json"]
    assert "not UTF-8" in report.errors[0].message


def _fuzz_harness():  # type: ignore[no-untyped-def]
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_readers.py"
    spec = importlib.util.spec_from_file_location("fuzz_readers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fuzz_harness_seeds_pass_and_cover_every_reader(tmp_path: Path) -> None:
    harness = _fuzz_harness()
    count = harness.write_seeds(tmp_path)
    assert count > len(harness.TARGETS)
    targets = set()
    for seed in sorted(tmp_path.iterdir()):
        data = seed.read_bytes()
        harness.check_one(data)
        targets.add(data[0] % len(harness.TARGETS))
    assert targets == set(range(len(harness.TARGETS)))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_the_fuzz_harness_on_hypothesis_bytes(data: bytes) -> None:
    HARNESS.check_one(data)


HARNESS = _fuzz_harness()
