"""The batch functions under pyarrow, dicts, datasets.map and Ray Data, and
``convert --workers``: the same records as the one-process exporters, nothing lost."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from intermt_schema import read_jsonl, read_parquet, write_parquet
from intermt_schema.cli import main
from intermt_schema.formats import get_format
from intermt_schema.sampling.pairs import sample_pairs
from intermt_schema.scale.batches import (
    CONVERT_COLUMNS,
    PAIR_COLUMNS,
    VALIDATE_COLUMNS,
    convert_batch,
    pairs_batch,
    record_formats,
    records_of,
    validate_batch,
)

from .conftest import EXAMPLES

TREES = EXAMPLES / "trees.jsonl"
LINES = [line for line in TREES.read_text().splitlines() if line.strip()]
BAD = ['{"id": "broken"', '{"id": "t", "nodes": 3}', "[1, 2]"]
CASES = [
    ("llava", {"mode": "sft"}),
    ("llava", {"mode": "dpo"}),
    ("sharegpt", {"mode": "sft"}),
    ("sharegpt", {"mode": "ranking"}),
    ("trl", {"mode": "sft"}),
    ("trl", {"mode": "preference"}),
    ("trl", {"mode": "kto"}),
    ("openai", {}),
    ("intermt-bench", {"layout": "pair"}),
]


def _batches(lines: list[str], size: int) -> list[dict[str, list[str]]]:
    return [{"text": lines[i : i + size]} for i in range(0, len(lines), size)]


def _exported(name: str, options: dict[str, str], tmp_path: Path) -> list[object]:
    fmt = get_format(name)
    target = tmp_path / f"out{fmt.suffix}"
    root = {"source_root": str(EXAMPLES)} if "source_root" in fmt.export_options else {}
    fmt.export(read_jsonl(str(TREES)), str(target), **root, **options)
    text = target.read_text()
    if fmt.array:
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines()]


def _no_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


def test_record_formats_are_the_json_record_formats() -> None:
    assert set(record_formats()) == {
        "align-anything",
        "alpaca",
        "intermt-bench",
        "llamafactory-v1",
        "llava",
        "oasst",
        "openai",
        "sharegpt",
        "trl",
    }


def test_validate_batch_accounts_for_every_row_in_arrow_and_dicts() -> None:
    lines = LINES + BAD
    table = validate_batch(pa.table({"text": lines}))
    as_dict = validate_batch({"text": lines})
    assert table.schema.names == list(VALIDATE_COLUMNS)
    assert table.to_pydict() == as_dict
    assert as_dict["accepted"] == [True] * len(LINES) + [False] * len(BAD)
    assert as_dict["line"] == list(range(1, len(lines) + 1))
    assert as_dict["record"][len(LINES) :] == BAD  # rejects kept verbatim
    rejected = [json.loads(i) for i in as_dict["issues"][len(LINES) :]]
    assert all(any(i["severity"] == "error" for i in issues) for issues in rejected)
    trees = [msgspec.json.decode(t) for t in as_dict["tree"][: len(LINES)]]
    assert [t["id"] for t in trees] == [t.id for t in read_jsonl(str(TREES))]


def test_validate_batch_reads_canonical_parquet_columns(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    target = tmp_path / "trees.parquet"
    write_parquet(read_jsonl(str(TREES)), str(target))
    out = validate_batch(pq.read_table(target))
    assert out.column("accepted").to_pylist() == [True] * len(LINES)
    broken = pa.table({"id": ["x"], "nodes": [[1]]})
    rejected = validate_batch(broken).to_pydict()
    assert rejected["accepted"] == [False]
    assert "schema.type" in rejected["issues"][0]


@pytest.mark.parametrize(("name", "options"), CASES)
@pytest.mark.parametrize("size", [1, 4])
def test_convert_batch_gives_the_exporters_records(
    name: str, options: dict[str, str], size: int, tmp_path: Path
) -> None:
    records: list[object] = []
    for batch in _batches(LINES, size):
        root = {"source_root": str(EXAMPLES)} if name != "intermt-bench" else {}
        out = convert_batch(batch, name, **root, **options)
        records += [json.loads(r) for r in out["record"] if r is not None]
    assert records == _exported(name, options, tmp_path)


def test_convert_batch_counts_losses_and_keeps_rejects() -> None:
    out = convert_batch(pa.table({"text": LINES + BAD}), "trl", mode="preference")
    assert out.schema.names == list(CONVERT_COLUMNS)
    columns = out.to_pydict()
    firsts = {(s, n) for s, n in zip(columns["source"], columns["line"], strict=True)}
    assert len(firsts) == len(LINES) + len(BAD)  # every input row appears
    dropped: dict[str, int] = {}
    for text in columns["dropped"]:
        for key, count in json.loads(text).items():
            dropped[key] = dropped.get(key, 0) + count
    assert dropped["ratings"] == sum(len(t.ratings) for t in read_jsonl(str(TREES)))
    rejected = [
        r for r, i in zip(columns["record"], columns["issues"], strict=True) if '"error"' in i
    ]
    assert rejected == [None] * len(BAD)


def test_convert_batch_refuses_a_non_record_format() -> None:
    with pytest.raises(ValueError, match="unknown record format"):
        convert_batch({"text": LINES}, "parquet")


@pytest.mark.parametrize("size", [1, 5])
def test_pairs_batch_matches_sample_pairs_whatever_the_batching(size: int) -> None:
    expected, _ = sample_pairs(list(read_jsonl(str(TREES))), strategy="best_rest", seed=3)
    found = []
    for batch in _batches(LINES, size):
        out = pairs_batch(batch, strategy="best_rest", seed=3)
        assert list(out) == list(PAIR_COLUMNS)
        found += [json.loads(p) for p in out["pair"] if p is not None]
    assert found == [msgspec.to_builtins(p) for p in expected]


def test_datasets_map_with_processes(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": LINES})
    out = ds.map(
        convert_batch,
        batched=True,
        batch_size=2,
        num_proc=2,
        remove_columns=ds.column_names,
        fn_kwargs={"format": "sharegpt", "mode": "ranking", "source_root": str(EXAMPLES)},
    )
    records = [json.loads(r) for r in out["record"] if r is not None]
    assert records == _exported("sharegpt", {"mode": "ranking"}, tmp_path)


def test_ray_data_map_batches(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.execution_options.preserve_order = True
        ds = ray.data.read_text(str(TREES), include_paths=True)
        checked = ds.map_batches(validate_batch, batch_format="pyarrow", batch_size=2)
        rows = checked.take_all()
        expected_ids = [t.id for t in read_jsonl(str(TREES))]
        assert [r["id"] for r in rows] == expected_ids
        assert all(r["accepted"] and r["source"].endswith("trees.jsonl") for r in rows)
        converted = ds.map_batches(
            convert_batch,
            fn_kwargs={"format": "trl", "mode": "preference", "source_root": str(EXAMPLES)},
            batch_format="pyarrow",
            batch_size=2,
        ).take_all()
        records = [json.loads(r["record"]) for r in converted if r["record"] is not None]
        assert records == _exported("trl", {"mode": "preference"}, tmp_path)
        written = tmp_path / "ray-trl"
        ray.data.from_items(converted).map_batches(records_of, batch_format="pyarrow").write_json(
            str(written)
        )
        lines = [
            json.loads(x) for f in sorted(written.iterdir()) for x in f.read_text().splitlines()
        ]
        # Arrow gives every struct every key, null where a record had none (as
        # datasets.load_dataset("json") does): compare without the nulls
        assert sorted(json.dumps(_no_nulls(x)) for x in lines) == sorted(map(json.dumps, records))
    finally:
        ray.shutdown()


@pytest.mark.parametrize(
    ("target", "extra"),
    [("trl", ["--mode", "kto"]), ("sharegpt", ["--mode", "ranking"]), ("parquet", []),
     ("parquet", ["--level", "path"]), ("parquet", ["--level", "pair"])],
)  # fmt: skip
def test_convert_workers_writes_what_one_process_writes(
    target: str, extra: list[str], tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    # enough lines for several chunks and two Parquet row groups, with bad ones between
    # them, and a video, which ShareGPT's dataset_info.json declares only when the
    # workers report it
    lines = (LINES * 300)[:1100] + BAD + LINES + [_with_video(LINES[0])]
    source.write_text("\n".join(lines) + "\n\xff broken\n")
    outputs = []
    for workers in ("1", "2"):
        folder = tmp_path / f"w{workers}"
        name = "out.parquet" if target == "parquet" else "out.json"
        args = ["convert", str(source), "--to", target, *extra, "-o", str(folder / name)]
        args += ["--workers", workers, "--rejects", str(folder / "rejects.jsonl")]
        args += ["--images-root", str(EXAMPLES)]
        log = tmp_path / f"log{workers}.txt"
        with log.open("w") as out:
            assert main(args, out=out) == 1  # the bad lines are errors
        summary = log.read_text()
        total = len(lines) + 1
        assert (
            f"{total} records read: {total - len(BAD) - 1} accepted, {len(BAD) + 1} rejected"
            in summary
        )
        written = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
        outputs.append([written, summary])
    if target == "sharegpt":
        info = json.loads(outputs[1][0]["dataset_info.json"])
        assert info["out"]["columns"]["videos"] == "videos"
    assert outputs[0] == outputs[1]


def _with_video(line: str) -> str:
    tree = json.loads(line)
    tree["id"] += "-video"
    video = {"type": "video", "video": {"path": "clips/a.mp4", "mime": "video/mp4"}}
    tree["nodes"][0]["content"].insert(0, video)
    return json.dumps(tree)


@pytest.mark.parametrize(("strict", "chunk"), [(False, None), (True, None), (True, 20_000)])
def test_validate_workers_reports_what_one_process_reports(
    strict: bool, chunk: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two files, so tree ids are compared across them; repeated ids are errors when strict;
    # chunks of a line or two put the bad lines at chunk edges
    if chunk is not None:
        monkeypatch.setattr("intermt_schema.scale.workers.CHUNK_BYTES", chunk)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join((LINES * 60)[:300] + BAD) + "\n")
    second.write_text("\n".join([*LINES, _with_video(LINES[0])]) + "\n\xff broken\n")
    runs = []
    for workers in ("1", "2"):
        rejects = tmp_path / f"rejects{workers}.jsonl"
        args = ["validate", str(first), str(second), "--workers", workers, "--format", "json"]
        args += ["--rejects", str(rejects)] + (["--strict"] if strict else [])
        out = io.StringIO()
        assert main(args, out=out) == 1
        runs.append((out.getvalue(), rejects.read_bytes()))
    assert runs[0] == runs[1]
    summary = json.loads(runs[1][0].splitlines()[-1])["summary"]
    total = 300 + len(BAD) + len(LINES) + 2
    assert summary["read"] == total == summary["accepted"] + summary["rejected"]
    repeated = total - len(BAD) - 1 - len({json.loads(x)["id"] for x in LINES}) - 1
    assert summary["rejected"] == len(BAD) + 1 + (repeated if strict else 0)


def test_workers_leave_out_the_records_of_a_repeated_id_made_an_error(tmp_path: Path) -> None:
    from intermt_schema.formats import LossReport
    from intermt_schema.scale.workers import parallel_records
    from intermt_schema.validation import ValidationOptions

    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(LINES + LINES) + "\n")  # every tree twice, in one chunk
    accounted: list[tuple[int | None, bool]] = []
    strict = ValidationOptions(strict=True, images_root=str(EXAMPLES))
    loss = LossReport(format="trl")
    blocks = parallel_records(
        str(source), "trl", strict, {}, 2, lambda r, ok: accounted.append((r.line, ok)), loss
    )
    written = [json.loads(x) for block in blocks for x in block.splitlines()]
    assert written == _exported("trl", {}, tmp_path)  # the first of each pair, once
    assert accounted == [(n, n <= len(LINES)) for n in range(1, 2 * len(LINES) + 1)]


def test_parquet_workers_build_the_rows_and_leave_out_a_repeated_id(tmp_path: Path) -> None:
    from intermt_schema.scale.workers import parallel_lossless
    from intermt_schema.validation import ValidationOptions

    source = tmp_path / "in.jsonl"
    lines = (LINES * 60)[:300]  # two chunks; every tree many times
    source.write_text("\n".join(lines) + "\n")
    accounted: list[tuple[int | None, bool]] = []
    strict = ValidationOptions(strict=True, images_root=str(EXAMPLES))
    out = tmp_path / "out.parquet"
    rows, unembedded = parallel_lossless(
        str(source), str(out), "parquet", strict, str(EXAMPLES), 2,
        lambda r, ok: accounted.append((r.line, ok)),
    )  # fmt: skip
    expected = list(read_jsonl(str(TREES)))
    assert rows == len(expected) and unembedded == 0
    written = list(read_parquet(str(out)))
    assert [t.id for t in written] == [t.id for t in expected]
    assert all(image.bytes for tree in written for image in tree.images())  # embedded
    assert accounted == [(n, n <= len(LINES)) for n in range(1, len(lines) + 1)]


def test_hf_workers_write_the_dataset_one_process_writes(tmp_path: Path) -> None:
    import datasets

    source = tmp_path / "in.jsonl"
    lines = (LINES * 60)[:300] + BAD  # two chunks
    source.write_text("\n".join(lines) + "\n")
    loaded = []
    for workers in ("1", "2"):
        folder = tmp_path / f"hf{workers}"
        args = ["convert", str(source), "--to", "hf", "-o", str(folder), "--workers", workers]
        log = io.StringIO()
        assert main([*args, "--images-root", str(EXAMPLES)], out=log) == 1  # BAD lines
        assert f"{len(lines) - len(BAD)} accepted, {len(BAD)} rejected" in log.getvalue()
        dataset = datasets.load_from_disk(str(folder))
        loaded.append((dataset.features, dataset.to_list()))
    assert loaded[0] == loaded[1]
    assert type(loaded[1][0]["nodes"].feature["content"].feature["image"]) is datasets.Image


def test_convert_workers_reports_a_truncated_gzip_as_one_process_does(tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(("\n".join(LINES * 50) + "\n").encode())
    source = tmp_path / "cut.jsonl.gz"
    source.write_bytes(packed[: len(packed) // 2])
    logs = []
    for workers in ("1", "2"):
        out = io.StringIO()
        args = ["convert", str(source), "--to", "trl", "-o", str(tmp_path / f"{workers}.jsonl")]
        assert main([*args, "--workers", workers], out=out) == 1
        assert "error file.unreadable" in out.getvalue()
        logs.append(out.getvalue().replace(f"{workers}.jsonl", "N.jsonl"))
    assert logs[0] == logs[1]
    assert (tmp_path / "1.jsonl").read_bytes() == (tmp_path / "2.jsonl").read_bytes()


def test_worker_chunks_hold_a_bounded_count_of_records_however_short(tmp_path: Path) -> None:
    # a megabyte of two-byte records would make one chunk of half a million results
    from intermt_schema.scale.workers import CHUNK_LINES, _chunks

    source = tmp_path / "tiny.jsonl"
    source.write_bytes(b"{}\n" * (3 * CHUNK_LINES) + b"\n" * 100_000 + b"{}\n" * 10)
    chunks = [chunk for chunk, _ in _chunks(str(source))]
    counts = [sum(1 for _ in chunk.lines()) for chunk in chunks]
    assert counts == [CHUNK_LINES, CHUNK_LINES, CHUNK_LINES, 10]
    assert [n for chunk in chunks for n, _ in chunk.lines()][-1] == 3 * CHUNK_LINES + 100_010


def test_spool_records_packed_end_to_end_unpack_as_they_were() -> None:
    import itertools

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from intermt_schema.scale.spool import Spooled, pack, unpack

    from .conftest import count_cases

    seen = count_cases("test_spool_records_packed_end_to_end_unpack_as_they_were")
    record = st.builds(
        Spooled, st.text(), st.binary(), st.binary(), st.integers(0, 2**40), st.integers(0, 9)
    )

    @settings(max_examples=200, deadline=None)
    @given(st.lists(record, max_size=6), st.data())
    def run(records: list[Spooled], data: st.DataObject) -> None:
        cuts = sorted(data.draw(st.sets(st.integers(0, len(records)))))
        edges = [0, *cuts, len(records)]
        blocks = [b"".join(map(pack, records[a:b])) for a, b in itertools.pairwise(edges)]
        assert list(unpack(blocks)) == records
        seen["several in a block"] += any(b - a > 1 for a, b in itertools.pairwise(edges))
        seen["an empty id or tree"] += any(not r.id or not r.tree for r in records)
        seen["ids beyond ASCII"] += any(not r.id.isascii() for r in records)

    run()
    for case in ("several in a block", "an empty id or tree", "ids beyond ASCII"):
        assert seen[case] >= 1, seen


def _worker_state(_: object) -> tuple[int, int]:
    """In a worker: the signal it gets when its parent dies, and the page faults of
    allocating and freeing blocks of one to five megabytes, after a first round."""
    import ctypes
    import resource

    def churn() -> None:
        for i in range(50):
            held = [bytearray((1 + (i * 7 + k) % 5) << 20) for k in range(4)]
            del held

    signal = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(2, ctypes.byref(signal))  # PR_GET_PDEATHSIG
    churn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    churn()
    return signal.value, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and glibc: Linux alone")
def test_workers_end_with_their_parent_and_keep_blocks_in_their_heap() -> None:
    import signal

    from intermt_schema.scale.workers import in_order

    ((_, _, (death, faults)),) = in_order(_worker_state, [(None, None)], 1)
    assert death == signal.SIGTERM
    # mapped afresh, the same blocks fault in every page: about 139,000 times
    assert faults < 2_000
