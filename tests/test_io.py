from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.io._fs import atomic_output
from intermt_schema.testing import trees


@given(st.lists(trees(max_nodes=6), max_size=4), st.sampled_from([".jsonl", ".jsonl.gz"]))
def test_jsonl_round_trip_through_fsspec_memory(items, suffix) -> None:
    url = f"memory://roundtrip/trees{suffix}"
    assert im.write_jsonl(items, url) == len(items)
    assert list(im.read_jsonl(url)) == items


def test_local_gzip_is_really_compressed(tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl.gz"
    im.write_jsonl([im.DialogueTree(id="a")], str(target))
    assert gzip.decompress(target.read_bytes()).startswith(b'{"id":"a"')


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"

    def exploding():
        yield im.DialogueTree(id="a")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        im.write_jsonl(exploding(), str(target))
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(KeyError), atomic_output(str(target)) as f:
        f.write(b"new")
        raise KeyError("x")
    assert target.read_bytes() == b"old\n"


def test_read_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"id":"a"}\n\n{"id":"b","nodes":[{"id":"x","role":"robot"}]}\n')
    with pytest.raises(
        im.SchemaError, match=r"t.jsonl:3: Invalid enum value 'robot' at /nodes/0/role"
    ):
        list(im.read_jsonl(str(path)))


def test_overlong_records_are_rejected_without_reading_them_whole(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'{"id":"' + b"x" * 5000 + b'"}\n{"id":"ok","nodes":[{"id":"q","role":"user",'
        b'"content":[{"type":"text","text":"hi"}]}]}\n'
    )
    results = list(im.validate_path(str(path), max_record_bytes=1000))
    assert [(r.line, r.accepted) for r in results] == [(1, False), (2, True)]
    assert results[0].report.issues[0].code == "record.too_large"


def test_validate_path_reads_folders_and_remote_urls() -> None:
    good = b'{"id":"a","nodes":[{"id":"q","role":"user","content":[{"type":"text","text":"x"}]}]}\n'
    for name in ("f/one.jsonl", "f/sub/two.jsonl", "f/ignored.txt"):
        with atomic_output(f"memory://{name}") as out:
            out.write(good)
    results = list(im.validate_path("memory://f"))
    assert [(r.source, r.accepted) for r in results] == [
        ("memory:///f/one.jsonl", True),
        ("memory:///f/sub/two.jsonl", True),
    ]


def test_unreadable_inputs_become_file_issues_not_exceptions(tmp_path: Path) -> None:
    truncated = tmp_path / "t.jsonl.gz"
    truncated.write_bytes(gzip.compress(b'{"id":"a"}\n' * 1000)[:60])
    for url in [
        str(tmp_path / "missing.jsonl"),
        "nosuchproto://x/y.jsonl",
        str(truncated),
        str(tmp_path),
    ]:
        results = list(im.validate_path(url))
        assert results, url
        assert not any(r.accepted for r in results), url


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_write_that_fails_without_a_file_name_names_the_output(tmp_path: Path, kind: str) -> None:
    from intermt_schema.io._fs import staged_folder

    target = str(tmp_path / ("out.jsonl" if kind == "file" else "out"))
    output = atomic_output(target) if kind == "file" else staged_folder(target)
    with pytest.raises(OSError) as info, output:
        raise OSError(28, "No space left on device")  # as a full disk raises it
    assert info.value.filename == target
    assert list(tmp_path.iterdir()) == []  # nothing staged is left
