"""The gate for contributed data: nothing outside the dataset is read or written."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import intermt_schema as im
from intermt_schema.cli import main

from .conftest import EXAMPLES, count_cases


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.fixture
def contribution(tmp_path: Path) -> Path:
    """The examples, with one image replaced by a link to a secret outside the folder."""
    folder = tmp_path / "contrib"
    shutil.copytree(EXAMPLES, folder)
    (tmp_path / "secret.txt").write_text("do not leak")
    first = next(im.read_jsonl(str(folder / "trees.jsonl")))
    path = next(p.image.path for n in first.nodes for p in n.content if type(p) is im.ImagePart)
    assert path is not None
    (folder / path).unlink()
    (folder / path).symlink_to(tmp_path / "secret.txt")
    return folder


def test_validate_refuses_an_image_that_links_outside_without_check_images(
    contribution: Path,
) -> None:
    code, text = run("validate", str(contribution))
    assert code == 1
    assert "image.escapes_root" in text and "links outside the dataset root" in text
    assert "1 rejected" in text


@pytest.mark.parametrize("mode", ["copy", "link"])
def test_training_exports_never_copy_or_link_what_lies_outside(
    contribution: Path, tmp_path: Path, mode: str
) -> None:
    trees = list(im.read_jsonl(str(contribution / "trees.jsonl")))
    out = tmp_path / "out" / "sft.json"
    loss = im.get_format("sharegpt").export(
        trees, str(out), source_root=str(contribution), images=mode
    )
    assert loss.dropped["images outside the dataset root, not copied"] >= 1
    for file in (tmp_path / "out").rglob("*"):
        if file.is_file():
            assert b"do not leak" not in file.read_bytes()
        if file.is_symlink():
            assert (tmp_path / "secret.txt").resolve() != file.resolve()


def test_an_imported_path_with_dotdot_is_neither_read_nor_written_outside(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret.png").write_bytes(b"secret")
    data = tmp_path / "in" / "sub"
    data.mkdir(parents=True)
    record = {"messages": [{"role": "user", "content": "<image>What is it?"},
                           {"role": "assistant", "content": "A secret."}],
              "images": ["../../secret.png"]}  # fmt: skip
    (data / "l.json").write_text(json.dumps([record]))
    out = tmp_path / "out" / "sub" / "l.json"
    code, text = run("convert", str(data / "l.json"), "--from", "sharegpt", "--to", "sharegpt",
                     "--images", "copy", "-o", str(out))  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "secret.png"]
    assert not any(p.read_bytes() == b"secret" for p in (tmp_path / "out").rglob("*.png"))
    assert code == 1  # validated like any canonical tree before the export sees it
    assert "error image.escapes_root" in text and "1 records read: 0 accepted, 1 rejected" in text


def test_a_nul_byte_in_an_image_path_is_refused() -> None:
    image = im.ImagePart(image=im.ImageRef(path="images/a\x00.png"))
    message = im.Message(id="q", role="user", content=[image, im.TextPart("?")])
    tree = im.DialogueTree(id="t", nodes=[message])
    assert "image.not_posix" in im.validate(tree).codes()


def test_reserved_meta_keys_and_integer_bounds_are_checked() -> None:
    message = im.Message(
        id="q", role="user", content=[im.TextPart("?")],
        meta={"intermt_placeholders": 5, "intermt_image_variants": 1},
    )  # fmt: skip
    tree = im.DialogueTree(id="t", meta=im.TreeMeta(extra={"meta_data": []}), nodes=[message])
    report = im.validate(tree)
    assert [(i.code, i.path) for i in report.errors] == [
        ("schema.type", "/meta/extra/meta_data"),
        ("schema.type", "/nodes/0/meta/intermt_placeholders"),
        ("schema.type", "/nodes/0/meta/intermt_image_variants"),
    ]
    line = (
        b'{"id": "t", "nodes": [{"id": "q", "role": "user", "content": [{"type": "image", '
        b'"image": {"path": "a.png", "width": 18446744073709551615}}]}]}'
    )
    decoded, found = im.decode_and_validate(line)
    assert decoded is None and found.issues[0].code == "schema.type"
    assert found.issues[0].path == "/nodes/0/content/0/image/width"


@pytest.mark.parametrize(
    "command",
    [
        ["convert", "{data}", "--to", "jsonl", "-o", "{data}"],
        ["validate", "{data}", "--rejects", "{data}"],
        ["export-all", "{folder}", "-o", "{folder}"],
        ["split", "{folder}", "-o", "{folder}"],
    ],
)
def test_an_output_that_is_an_input_is_refused(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(EXAMPLES, folder)
    data = folder / "trees.jsonl"
    before = data.read_bytes()
    args = [a.format(data=data, folder=folder) for a in command]
    code, _ = run(*args)
    assert code == 2 and "is an input; write it elsewhere" in capsys.readouterr().err
    assert data.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["images", "trees.jsonl"]


def test_plot_names_made_from_dimension_names_stay_in_the_plot_folder(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from intermt_schema.sampling.stats import plot_stats, tree_stats

    message = im.Message(id="q", role="user", content=[im.TextPart("?")])
    answer = im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("!")])
    ratings = [im.Rating(target="a", scope="local", dimension=d, score=1)
               for d in ("../../../x", "a/b")]  # fmt: skip
    tree = im.DialogueTree(id="t", nodes=[message, answer], ratings=ratings)
    plots = tmp_path / "plots"
    written = plot_stats(tree_stats([tree]), str(plots))
    assert len(written) == 2
    assert all(Path(p).parent == plots for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots"]


def test_data_files_that_link_outside_or_are_not_regular_files_are_not_read(
    tmp_path: Path,
) -> None:
    import os

    folder = tmp_path / "contrib"
    shutil.copytree(EXAMPLES, folder)
    (tmp_path / "passwd.jsonl").write_text('{"id": "secret", "nodes": []}\n')
    (folder / "linked.jsonl").symlink_to(tmp_path / "passwd.jsonl")
    os.mkfifo(folder / "pipe.jsonl")  # reading it would block forever
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "more.jsonl").write_text('{"id": "far", "nodes": []}\n')
    (folder / "far").symlink_to(tmp_path / "elsewhere")  # a folder outside
    (folder / "nested").mkdir()
    for k in range(2):  # two loops back: listing them would never end
        (folder / "nested" / f"loop{k}").symlink_to(folder)
    rejects = tmp_path / "rejects.jsonl"
    code, text = run("validate", str(folder), "--rejects", str(rejects))
    assert code == 1
    assert "linked.jsonl: error file.unreadable" in text and "leads outside the folder" in text
    assert "pipe.jsonl: error file.unreadable" in text and "not a regular file" in text
    assert "far: error file.unreadable" in text and "far" not in rejects.read_text()
    assert "secret" not in rejects.read_text()
    assert "6 records read: 6 accepted, 0 rejected" in text  # the examples, once
    code, _ = run("convert", str(folder / "pipe.jsonl"), "--to", "jsonl",
                  "-o", str(tmp_path / "o.jsonl"))  # fmt: skip
    assert code == 2
    loaded = im.get_format("sharegpt").load(str(folder))
    assert {i.message.split(": ")[-1] for i in loaded.issues if i.code == "file.unreadable"} == {
        "a link that leads outside the folder given",
        "not a regular file",
    }


def test_importer_rejects_hold_each_refused_record_verbatim(tmp_path: Path) -> None:
    good = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    bad_role = {"conversations": [{"from": "tool", "value": "x"}, {"from": "gpt", "value": "y"}]}
    lines = [json.dumps(good), "{broken", json.dumps({}), json.dumps(bad_role), "[1, 2]"]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    code, text = run("convert", str(data), "--from", "sharegpt", "--to", "jsonl",
                     "-o", str(tmp_path / "out.jsonl"), "--rejects", str(rejects))  # fmt: skip
    assert code == 1
    assert "5 records read: 1 accepted, 4 rejected" in text
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(k["line"], k["record"]) for k in kept] == [(n, lines[n - 1]) for n in (2, 3, 4, 5)]
    assert all(k["errors"] for k in kept)


def test_a_conflicting_record_is_refused_whole(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "merge.conflict" / "input.json"
    result = im.get_format("intermt-bench").load(str(case))
    (tree,) = result.trees
    texts = [p.text for n in tree.nodes for p in n.content if isinstance(p, im.TextPart)]
    assert texts == ["Hello?", "Hi."]  # nothing of record 2 under record 1's question
    assert [r.score for r in tree.ratings] == [2]
    assert set(result.rejected) == {(str(case), 2)}


def test_a_deeply_nested_line_is_one_rejected_record_not_a_lost_file(tmp_path: Path) -> None:
    good = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Yo"}]}
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps(good) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n")
    result = im.get_format("sharegpt").load(str(data))
    assert result.records == 2 and len(result.trees) == 1
    assert [(i.code, i.line) for i in result.issues] == [("import.bad_record", 2)]


def test_show_keeps_a_page_for_each_of_two_trees_with_one_id(tmp_path: Path) -> None:
    pytest.importorskip("jinja2")
    from intermt_schema.viewer import write_pages

    def tree(text: str) -> im.DialogueTree:
        message = im.Message(id="q", role="user", content=[im.TextPart(text)])
        return im.DialogueTree(id="t", nodes=[message])

    first, second = tree("first"), tree("second")
    written = write_pages([first, second], str(tmp_path / "index.html"))
    pages = [Path(p).read_text() for p in written[1:]]
    assert len(set(written)) == 3 and "first" in pages[0] and "second" in pages[1]


def test_a_decompression_bomb_is_refused_while_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from intermt_schema.io import _input

    monkeypatch.setattr(_input, "FREE_INFLATION", 1 << 20)  # the default is 16 MiB
    array = tmp_path / "padded.json.gz"
    with gzip.open(array, "wb") as f:  # an empty JSON array padded to 8 MiB
        f.write(b"[" + b" " * (8 << 20) + b"]")
    result = im.get_format("sharegpt").load(str(array))
    assert result.records == 0
    assert [i.code for i in result.issues] == ["file.unreadable"]
    assert "refused as a decompression bomb" in result.issues[0].message
    lines = tmp_path / "blank.jsonl.gz"
    with gzip.open(lines, "wb") as f:
        f.write(b"\n" * (8 << 20))
    (found,) = list(im.validate_path(str(lines)))
    assert "decompression bomb" in found.report.issues[0].message
    ordinary = tmp_path / "trees.jsonl.gz"  # real data compresses far less: it reads
    ordinary.write_bytes(gzip.compress((EXAMPLES / "trees.jsonl").read_bytes()))
    assert [r.accepted for r in im.validate_path(str(ordinary))] == [True] * 6


def test_a_json_array_streams_and_keeps_the_records_before_a_syntax_error(
    tmp_path: Path,
) -> None:
    good = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Yo"}]}
    data = tmp_path / "cut.json"
    data.write_text("[" + json.dumps(good) + ", " + json.dumps(good).replace("Yo", "Hey") + ", {")
    result = im.get_format("sharegpt").load(str(data))
    assert result.records == 3 and len(result.trees) == 1 and len(result.trees[0].nodes) == 3
    assert [(i.code, i.line) for i in result.issues] == [("import.bad_record", 3)]


def test_multi_file_outputs_are_swapped_in_whole(tmp_path: Path) -> None:
    out = tmp_path / "splits"
    code, _ = run("split", str(EXAMPLES), "--seed", "1", "-o", str(out))
    assert code == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(first) == {".intermt-output", "train.jsonl", "validation.jsonl", "test.jsonl"}
    code, _ = run("split", str(EXAMPLES), "--seed", "2", "--fractions", "0.5,0.5", "-o", str(out))
    assert code == 0  # the new set replaces the old one whole: no stale test.jsonl
    assert sorted(p.name for p in out.iterdir()) == [
        ".intermt-output",
        "part-0.jsonl",
        "part-1.jsonl",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".splits")]  # no staging left
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    code, _ = run("export-all", str(EXAMPLES), "-o", str(foreign))
    assert code == 1 and (foreign / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_one_bad_row_of_an_hf_dataset_is_one_rejected_record(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    trees = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    dataset = im.to_hf_dataset(trees)
    broken = dataset.map(lambda row, i: {"nodes": [] if i == 2 else row["nodes"]},
                         with_indices=True)  # fmt: skip
    broken.save_to_disk(str(tmp_path / "hf"))
    result = im.get_format("hf").load(str(tmp_path / "hf"))
    assert result.records == 6 and len(result.trees) == 5
    errors = [i for i in result.issues if i.severity == "error"]
    assert {i.line for i in errors} == {3} and "tree.no_root" in {i.code for i in errors}
    assert json.loads(result.rejected[(str(tmp_path / "hf"), 3)])["id"] == trees[2].id
    assert datasets is not None


def test_a_dead_worker_ends_the_run_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from intermt_schema.scale import workers

    monkeypatch.setattr(workers, "_work", _die)  # forked workers inherit the patch
    out = tmp_path / "out.jsonl"
    code, _ = run("convert", str(EXAMPLES / "trees.jsonl"), "--to", "trl", "--workers", "2",
                  "-o", str(out))  # fmt: skip
    assert code == 1
    assert "a worker process died" in capsys.readouterr().err
    assert not out.exists()


def _die(task: object) -> object:
    """A worker's task that dies as if killed, so that the pool breaks."""
    import os

    os._exit(9)


def test_temporary_files_of_a_killed_run_are_cleaned_and_a_live_writers_kept(
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    from intermt_schema.io._fs import atomic_output

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".out.jsonl.{dead}.abcd1234.tmp"
    stale.write_text("half")
    stale_folder = tmp_path / f".out.jsonl.{dead}.efgh5678"
    stale_folder.mkdir()
    live = tmp_path / f".out.jsonl.{os.getpid()}.ijkl9012.tmp"
    live.write_text("being written")
    mine = tmp_path / ".out.jsonl.7.notes"  # not a name this library makes
    mine.write_text("keep")
    with atomic_output(str(tmp_path / "out.jsonl")) as out:
        out.write(b"{}\n")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["out.jsonl", live.name, mine.name])


def test_concurrent_sharegpt_exports_keep_every_dataset_info_entry(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, intermt_schema as im\n"
        "trees = list(im.read_jsonl(sys.argv[1]))\n"
        "im.get_format('sharegpt').export(trees, sys.argv[2])\n"
    )
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                str(EXAMPLES / "trees.jsonl"),
                str(tmp_path / f"set{i}.json"),
            ]
        )
        for i in range(6)
    ]
    assert [r.wait() for r in runs] == [0] * 6
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert sorted(info) == [f"set{i}" for i in range(6)]


def test_an_image_whose_bytes_lack_their_sha256_is_not_copied(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "image.sha256_mismatch"
    (tree,) = im.read_jsonl(str(case / "input.jsonl"))
    out = tmp_path / "out" / "sft.json"
    loss = im.get_format("trl").export([tree], str(out), source_root=str(case), images="copy")
    assert loss.dropped["images whose bytes do not have their sha256, not placed"] == 1
    assert not (tmp_path / "out" / "images").exists()


def test_line_splitting_is_exact_however_the_chunks_fall() -> None:
    """``iter_lines`` reads in chunks and skips blank runs by C-level search; whatever
    the chunk boundaries, it gives the same numbered lines as splitting the whole."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from intermt_schema.io._input import _split_lines

    seen = count_cases("test_line_splitting_is_exact_however_the_chunks_fall")
    pieces = st.sampled_from([b"\n", b"  ", b"\r\n", b"\t\n", b"{}", b"abc", b"x" * 9])

    @settings(derandomize=True, max_examples=400)
    @given(st.lists(pieces, max_size=30), st.lists(st.integers(1, 12), min_size=1), st.data())
    def check(parts: list[bytes], sizes: list[int], data: st.DataObject) -> None:
        text = b"".join(parts)
        limit = data.draw(st.integers(1, 12))
        chunks, at = [], 0
        for size in sizes * (len(text) + 1):
            if at >= len(text):
                break
            chunks.append(text[at : at + size])
            at += size
        expected = []
        for number, line in enumerate(text.split(b"\n"), 1):
            if line.strip():  # a line starts at its first non-blank byte
                line = line.lstrip() + (b"\n" if number <= text.count(b"\n") else b"")
                expected.append((number, None if len(line.rstrip(b"\n")) > limit else line))
        assert list(_split_lines(iter(chunks), limit)) == expected
        seen["blank run across a chunk edge"] += any(
            c[:1].isspace() and chunks[i - 1][-1:].isspace() for i, c in enumerate(chunks) if i
        )
        seen["line across a chunk edge"] += any(not c.endswith(b"\n") for c in chunks[:-1])
        seen["line over the limit"] += any(line is None for _, line in expected)

    check()
    assert min(seen.values()) >= 20, seen


def test_blocks_split_into_the_lines_of_the_whole_however_the_chunks_fall() -> None:
    """``iter_blocks`` cuts whole lines into blocks that workers split: whatever the
    chunks, the limits and a read that fails, the blocks' lines, numbered from each
    block's first, and the lines it skips are what ``_split_lines`` gives of the whole;
    what it holds stays within its bounds, in bytes and in lines."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from intermt_schema.io._input import _blocks, _split_lines, block_lines

    seen = count_cases("test_blocks_split_into_the_lines_of_the_whole_however_the_chunks_fall")
    pieces = st.sampled_from([b"\n", b"  ", b"\r\n", b"\t\n", b"{}", b"abc", b"x" * 9])

    def chunked(text: bytes, sizes: list[int], fail: bool) -> Iterator[bytes]:
        at = 0
        for size in sizes * (len(text) + 1):
            if at >= len(text):
                break
            yield text[at : at + size]
            at += size
        if fail:
            raise OSError("the read failed")

    def collect(items: Iterator[tuple[int, Any]]) -> tuple[list[tuple[int, Any]], bool]:
        got: list[tuple[int, Any]] = []
        try:
            got.extend(items)
        except OSError:
            return got, True
        return got, False

    @settings(derandomize=True, max_examples=600)
    @given(
        st.lists(pieces, max_size=40),
        st.lists(st.integers(1, 12), min_size=1),
        st.integers(1, 12),
        st.integers(1, 30),
        st.integers(1, 4),
        st.booleans(),
    )
    def check(
        parts: list[bytes], sizes: list[int], limit: int, most: int, lines: int, fail: bool
    ) -> None:
        text = b"".join(parts)
        expected, failed = collect(_split_lines(chunked(text, sizes, fail), limit))
        blocks, failed_too = collect(_blocks(chunked(text, sizes, fail), limit, most, lines))
        assert failed_too == failed
        got: list[tuple[int, Any]] = []
        for first, block in blocks:
            if block is None:
                got.append((first, None))
                seen["line skipped unheld"] += 1
                continue
            assert len(block) <= most + limit + 12  # a block, a line's end, a chunk
            held = list(block_lines(first, block, limit))
            assert len(held) <= lines
            seen["block of the most lines"] += len(held) == lines
            got += held
        assert got == expected
        seen["several blocks"] += len(blocks) > 1
        seen["blank lines"] += any(b is not None and b"\n\n" in b for _, b in blocks)
        seen["long line in a block"] += any(b is not None and len(b) > limit + 1 for _, b in blocks)
        seen["failed read"] += failed

    check()
    assert min(seen.values()) >= 20, seen


def test_the_record_limit_applies_to_parquet_rows_and_json_array_elements(
    tmp_path: Path,
) -> None:
    from intermt_schema.io._json_records import read_json_records
    from intermt_schema.io._parquet import iter_rows

    def tree(name: str, text: str) -> im.DialogueTree:
        part = im.TextPart(text)
        return im.DialogueTree(id=name, nodes=[im.Message(id="q", role="user", content=[part])])

    trees = [tree("a", "Hi"), tree("big", "x" * 300_000), tree("b", "Hi")]
    parquet = tmp_path / "t.parquet"
    im.write_parquet(trees, str(parquet), rows_per_group=1)
    assert [row and row["id"] for _, row in iter_rows(str(parquet), 100_000)] == [
        "a", None, "b",
    ]  # fmt: skip
    results = list(im.validate_path(str(parquet), max_record_bytes=100_000))
    assert [r.report.issues[0].code if r.report.issues else "ok" for r in results] == [
        "ok", "record.too_large", "ok",
    ]  # fmt: skip
    array = tmp_path / "a.json"
    array.write_text(json.dumps([{"a": 1}, {"b": "x" * 400_000}, {"c": 2}]))
    records = list(read_json_records(str(array), 100_000))
    assert [(n, e) for n, _, e, _ in records] == [
        (1, None), (2, "the record is longer than 100000 bytes"),
    ]  # fmt: skip


@pytest.mark.parametrize("mode", ["copy", "link"])
def test_a_second_dataset_in_one_folder_never_takes_or_overwrites_anothers_image(
    tmp_path: Path, mode: str
) -> None:
    """Two datasets name ``images/1.png`` with different bytes; exported into one
    training folder, each record still names its own image's bytes."""
    out = tmp_path / "lf"
    named = {}
    for name, colour in [("first", b"RED"), ("second", b"BLUE"), ("again", b"BLUE")]:
        root = tmp_path / name
        (root / "images").mkdir(parents=True)
        (root / "images" / "1.png").write_bytes(colour)
        image = im.ImagePart(image=im.ImageRef(path="images/1.png"))
        tree = im.DialogueTree(
            id=name,
            nodes=[
                im.Message(id="q", role="user", content=[image, im.TextPart("What?")]),
                im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("A.")]),
            ],
        )
        target = out / f"{name}.json"
        im.get_format("sharegpt").export([tree], str(target), source_root=str(root), images=mode)
        (record,) = json.loads(target.read_text())
        named[name] = (record["images"][0], colour)
    assert named["first"][0] == "images/1.png" and named["second"][0] != "images/1.png"
    assert named["again"] == named["second"]  # the same bytes find their earlier copy
    for path, colour in named.values():
        assert (out / path).read_bytes() == colour
    assert len(list((out / "images").iterdir())) == 2


def _wide_and_comb(width: int) -> tuple[im.DialogueTree, im.DialogueTree]:
    """A question with ``width`` rated answers, and a chain of ``width`` messages with
    an answer hanging off each question."""

    def message(node: str, parent: str | None, role: str) -> im.Message:
        return im.Message(id=node, parent=parent, role=role, content=[im.TextPart(node)])  # type: ignore[arg-type]

    wide = [message("q", None, "user")] + [message(f"a{i}", "q", "assistant") for i in range(width)]
    ratings = [
        im.Rating(target=f"a{i}", scope="local", dimension="context_coherence", score=i % 4)
        for i in range(width)
    ]
    comb, parent = [], None
    for i in range(width):
        comb.append(message(f"s{i}", parent, "user" if i % 2 == 0 else "assistant"))
        parent = f"s{i}"
        if i % 2 == 0:
            comb.append(message(f"leaf{i}", parent, "assistant"))
    return (
        im.DialogueTree(id="wide", nodes=wide, ratings=ratings),
        im.DialogueTree(id="comb", nodes=comb),
    )


@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "children first"])
def test_trees_whose_paths_or_pairs_grow_quadratically_are_refused(shuffled: bool) -> None:
    """A small record of a comb-shaped tree, or of a question with many rated answers,
    would make an export write its square; validation bounds what the other commands
    derive from an accepted tree. Linear shapes (a star of answers) pass."""
    wide, comb = _wide_and_comb(1200)
    if shuffled:  # the slow path of the structural check counts the same
        wide, comb = (msgspec_replace(t, nodes=t.nodes[::-1]) for t in (wide, comb))
    assert [i.message for i in im.validate(wide).issues if i.code == "tree.too_large"] == [
        "its ratings make 719400 possible pairs; the limit is 200000"
    ]
    assert im.validate(msgspec_replace(wide, ratings=[])).ok  # unrated: linear paths
    messages = sum(len(path) for path in im.TreeView(comb).paths())
    assert messages > 300_000
    assert [i.message for i in im.validate(comb).issues if i.code == "tree.too_large"] == []
    tight = im.ValidationOptions(max_path_messages=300_000)
    assert [i.message for i in im.validate(comb, tight).issues if i.code == "tree.too_large"] == [
        f"its root-to-leaf paths hold {messages} messages; the limit is 300000"
    ]
    small_wide, small_comb = _wide_and_comb(300)
    assert im.validate(small_wide).ok and im.validate(small_comb).ok


def msgspec_replace(tree: im.DialogueTree, **changes: object) -> im.DialogueTree:
    import msgspec

    return msgspec.structs.replace(tree, **changes)


def test_stats_count_paths_in_linear_time_and_agree_with_the_paths() -> None:
    wide, comb = _wide_and_comb(300)
    for tree in (wide, comb):
        stats = im.tree_stats([tree])
        paths = im.TreeView(tree).paths()
        assert stats["paths"] == len(paths)
        assert stats["path_turns"] == Counter(sum(m.role == "user" for m in p) for p in paths)


@pytest.mark.parametrize("swap", ["link", "pipe"])
def test_a_source_swapped_after_it_was_looked_at_is_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    """Between the containment check and the copy, an image becomes a link out of the
    root or a pipe: it is counted as not found, never read through, never waited on."""
    from intermt_schema.formats import _placing

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"do not leak")
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    source = root / "images" / "1.png"
    if swap == "link":
        source.symlink_to(secret)
    else:
        os.mkfifo(source)
    # the check saw a regular file inside the root: the swap came after it
    monkeypatch.setattr(_placing, "local_file", lambda folder, path: (f"{folder}/{path}", None))
    image = im.ImagePart(image=im.ImageRef(path="images/1.png"))
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(id="q", role="user", content=[image, im.TextPart("What?")]),
            im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("A.")]),
        ],
    )
    out = tmp_path / "out"
    loss = im.get_format("sharegpt").export(
        [tree], str(out / "sft.json"), source_root=str(root), images="copy"
    )
    assert loss.dropped["images not found to copy"] == 1
    assert not (out / "images").exists()
    assert all(b"do not leak" not in p.read_bytes() for p in out.rglob("*") if p.is_file())


def test_an_input_swapped_for_a_pipe_after_its_check_is_refused_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intermt_schema.io import _readers

    fifo = tmp_path / "trees.jsonl"
    os.mkfifo(fifo)
    # the check saw a regular file: the swap came after it
    monkeypatch.setattr(_readers, "source_problem", lambda given, file: None)
    (result,) = im.validate_path(str(fifo))
    assert not result.accepted and result.line is None
    assert [i.code for i in result.report] == ["file.unreadable"]
    assert "is not a regular file" in result.report.issues[0].message


def test_a_llamafactory_dataset_info_that_is_a_pipe_or_too_long_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intermt_schema.formats import llamafactory

    os.mkfifo(tmp_path / "dataset_info.json")  # reading it would block forever
    loaded = im.get_format("llamafactory").load(str(tmp_path))
    assert [i.code for i in loaded.issues] == ["file.unreadable"]
    assert "is not a regular file" in loaded.issues[0].message
    (tmp_path / "dataset_info.json").unlink()
    (tmp_path / "dataset_info.json").write_text(json.dumps({"d": {"file_name": "d.json"}}))
    monkeypatch.setattr(llamafactory, "DEFAULT_MAX_RECORD_BYTES", 16)
    loaded = im.get_format("llamafactory").load(str(tmp_path))
    assert [i.code for i in loaded.issues] == ["file.unreadable"]
    assert "longer than 16 bytes" in loaded.issues[0].message


def test_an_unsafe_path_is_never_read_under_a_remote_root() -> None:
    """A remote images root joins paths as text, and an HTTP server resolves ``..``:
    the path rules apply before anything is fetched."""
    import fsspec

    from intermt_schema.validation._containment import read_under_root

    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/data/a.png", b"ok")
    fs.pipe("/bucket/data/../secret.png", b"do not leak")  # a store that keeps ".." as is
    assert read_under_root("a.png", "memory://bucket/data", 100) == (b"ok", None)
    for path in ("../secret.png", "/bucket/secret.png", "a\\..\\b.png"):
        data, problem = read_under_root(path, "memory://bucket/data", 100)
        assert data is None and problem is not None and problem[0].startswith("image.")
