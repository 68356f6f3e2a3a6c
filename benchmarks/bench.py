"""The speed and memory budget, as ratios against baselines measured in the same run.

    python benchmarks/bench.py [--trees 3000] [--repeats 5] [--full]

Every figure is a median over ``--repeats`` runs. Ratios above 1 mean the library is
faster than the baseline (throughput ratio). ``--full`` also times the whole
InterMT-scale corpus (15.6k trees) end to end and measures peak memory at 1x and 10x.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_tree, write_corpus

import intermt_schema as im
from intermt_schema import ExportOptions, decode_and_validate
from intermt_schema.sampling._criteria import STRATEGIES

Row = tuple[str, float, str]


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def decode_section(lines: list[bytes], repeats: int) -> list[Row]:
    builtins_decoder = msgspec.json.Decoder()
    tree_decoder = msgspec.json.Decoder(im.DialogueTree)
    model = im.pydantic_model(im.DialogueTree)
    megabytes = sum(map(len, lines)) / 1e6

    def raw_msgspec() -> None:
        for line in lines:
            builtins_decoder.decode(line)

    def structs() -> None:
        for line in lines:
            tree_decoder.decode(line)

    def structs_kept() -> None:
        kept = [tree_decoder.decode(line) for line in lines]
        assert len(kept) == len(lines)

    def raw_kept() -> None:
        kept = [builtins_decoder.decode(line) for line in lines]
        assert len(kept) == len(lines)

    def pydantic_only() -> None:
        for line in lines:
            model.model_validate_json(line)

    def json_loads() -> None:
        for line in lines:
            json.loads(line)

    def full() -> None:
        for line in lines:
            tree, report = decode_and_validate(line)
            assert tree is not None and report.ok

    t = {
        name: median_seconds(fn, repeats)
        for name, fn in [
            ("msgspec", raw_msgspec),
            ("structs", structs),
            ("pydantic", pydantic_only),
            ("json", json_loads),
            ("full", full),
            ("structs_kept", structs_kept),
            ("msgspec_kept", raw_kept),
        ]
    }
    return [
        ("decode+structural, MB/s", megabytes / t["structs"], ""),
        ("  vs msgspec.json.decode to builtins", t["msgspec"] / t["structs"], "target >= 1.5x"),
        (
            "  same, every result kept in a list",
            t["msgspec_kept"] / t["structs_kept"],
            "target >= 1.5x",
        ),
        ("  vs pydantic validate_json", t["pydantic"] / t["structs"], "target >= 5x"),
        ("full validation (semantic rules), MB/s", megabytes / t["full"], ""),
        ("  vs json.loads", t["json"] / t["full"], "target >= 1.0x"),
        ("  vs pydantic-only (structural only)", t["pydantic"] / t["full"], ""),
    ]


def parquet_section(trees: list[im.DialogueTree], workdir: Path, repeats: int) -> list[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from intermt_schema.io._arrow import arrow_schema, tree_to_row

    schema = arrow_schema()
    rows = [tree_to_row(t) for t in trees]  # the baseline starts from ready-made dicts
    target = str(workdir / "t.parquet")

    def baseline() -> None:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), target, compression="zstd")

    def ours() -> None:
        im.write_parquet(trees, target)

    base, mine = median_seconds(baseline, repeats), median_seconds(ours, repeats)
    return [
        ("parquet export, trees/s", len(trees) / mine, ""),
        ("  vs pyarrow from ready dicts", base / mine, "target >= 0.5x"),
    ]


def naive_paths(doc: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Root-to-leaf paths of a tree dict, leaf first, the way peers walk them."""
    by_id = {n["id"]: n for n in doc["nodes"]}
    parents = {n.get("parent") for n in doc["nodes"]}
    paths = []
    for leaf in (n for n in doc["nodes"] if n["id"] not in parents):
        path, node = [], leaf
        while node is not None:
            path.append(node)
            node = by_id.get(node.get("parent"))
        paths.append(path)
    return paths


def naive_sharegpt(docs: list[dict[str, Any]], target: str) -> None:
    """The plain loop peers write: walk each tree's paths, join text, count images."""
    with open(target, "w") as out:
        records = []
        for doc in docs:
            for path in naive_paths(doc):
                messages, images = [], []
                for n in reversed(path):
                    text = ""
                    for part in n.get("content", []):
                        if part["type"] == "text":
                            text += part["text"]
                        elif n["role"] == "user":
                            text += "<image>"
                            images.append(part["image"].get("path"))
                    messages.append({"role": n["role"], "content": text})
                records.append({"messages": messages, "images": images})
        json.dump(records, out)


def naive_trl(docs: list[dict[str, Any]], target: str) -> None:
    with open(target, "w") as out:
        for doc in docs:
            for path in naive_paths(doc):
                messages, images = [], []
                for n in reversed(path):
                    parts = []
                    for part in n.get("content", []):
                        if part["type"] == "text":
                            parts.append({"type": "text", "text": part["text"]})
                        elif n["role"] == "user":
                            parts.append({"type": "image"})
                            images.append(part["image"].get("path"))
                    messages.append({"role": n["role"], "content": parts})
                out.write(json.dumps({"messages": messages, "images": images}) + "\n")


def training_section(trees: list[im.DialogueTree], workdir: Path, repeats: int) -> list[Row]:
    from intermt_schema.formats import get_format

    docs = [msgspec.to_builtins(t) for t in trees]
    rows: list[Row] = []
    for name, naive in (("sharegpt", naive_sharegpt), ("trl", naive_trl)):
        fmt = get_format(name)
        target = str(workdir / f"{name}{fmt.suffix}")
        base = median_seconds(functools.partial(naive, docs, target), repeats)
        mine = median_seconds(functools.partial(fmt.export, trees, target), repeats)
        rows += [
            (f"{name} SFT export, trees/s", len(trees) / mine, ""),
            ("  vs a plain dict-building loop", base / mine, ""),
        ]
    return rows


def scale_section(workdir: Path) -> list[Row]:
    """Every format over the whole InterMT-scale corpus, in one process."""
    from intermt_schema.formats import get_format

    path = write_corpus(workdir / "scale")
    rows: list[Row] = []
    start = time.perf_counter()
    trees = [r.tree for r in im.validate_path(str(path)) if r.accepted and r.tree is not None]
    rows.append(
        (
            f"validate {len(trees)} trees (InterMT scale), s",
            time.perf_counter() - start,
            "seconds, not minutes",
        )
    )
    rows += import_section(trees, workdir)
    rows += pairs_section(trees)
    for name, mode in [
        ("jsonl", None),
        ("parquet", None),
        ("intermt-bench", None),
        ("llava", "sft"),
        ("sharegpt", "sft"),
        ("sharegpt", "ranking"),
        ("trl", "sft"),
        ("trl", "preference"),
        ("openai", None),
    ]:
        fmt = get_format(name)
        target = str(workdir / f"scale-{name}-{mode}{fmt.suffix}")
        start = time.perf_counter()
        loss = fmt.export(trees, target, **(ExportOptions(mode=mode) if mode else {}))
        seconds = time.perf_counter() - start
        rows.append(
            (
                f"  to {name}{' ' + mode if mode else ''}: {loss.records} records, s",
                seconds,
                f"{len(trees) / seconds:,.0f} trees/s",
            )
        )
    return rows


def naive_judgment_pairs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plain loop peers write: chosen/rejected from each decided judgment."""
    pairs = []
    for doc in docs:
        by_id = {n["id"]: n for n in doc["nodes"]}
        for j in doc.get("judgments", []):
            votes = list(j.get("outcomes", {}).values())
            winner = j.get("overall") or max(set(votes), key=votes.count, default=None)
            if winner not in ("a", "b") or j["a"] not in by_id or j["b"] not in by_id:
                continue
            chosen, rejected = (j["a"], j["b"]) if winner == "a" else (j["b"], j["a"])
            prompt, node = (
                [],
                by_id[by_id[chosen].get("parent")] if by_id[chosen].get("parent") else None,
            )
            while node is not None:
                prompt.append(node["id"])
                node = by_id.get(node.get("parent"))
            pairs.append({"prompt": prompt[::-1], "chosen": chosen, "rejected": rejected})
    return pairs


def pair_ratio_section(trees: list[im.DialogueTree], repeats: int) -> list[Row]:
    """Judgment pairs with provenance against the plain loop over dicts."""
    from intermt_schema.sampling.pairs import sample_pairs

    docs = [msgspec.to_builtins(t) for t in trees]
    base = median_seconds(functools.partial(naive_judgment_pairs, docs), repeats)
    mine = median_seconds(
        functools.partial(sample_pairs, trees, source="judgments", strategy="all"), repeats
    )
    both = median_seconds(functools.partial(sample_pairs, trees), repeats)
    return [
        ("pair sampling from judgments, trees/s", len(trees) / mine, ""),
        ("  vs a plain chosen/rejected loop over dicts", base / mine, ""),
        ("pair sampling, judgments and ratings, both scopes, trees/s", len(trees) / both, ""),
    ]


def batch_section(lines: list[bytes], workdir: Path, repeats: int) -> list[Row]:
    """The batch functions (what Ray and datasets.map run) against the streaming CLI
    path, both from the same bytes: decode, validate, build TRL records."""
    from intermt_schema.formats import get_format
    from intermt_schema.scale.batches import convert_batch

    texts = [line.decode() for line in lines]
    trl = get_format("trl")

    def stream() -> None:
        trees = (decode_and_validate(line)[0] for line in lines)
        trl.export((t for t in trees if t is not None), str(workdir / "stream.jsonl"))

    def batched() -> None:
        for i in range(0, len(texts), 256):
            convert_batch({"text": texts[i : i + 256]}, "trl")

    base, mine = median_seconds(stream, repeats), median_seconds(batched, repeats)
    return [
        ("convert_batch (dicts, 256 rows) to TRL, trees/s", len(lines) / mine, ""),
        ("  vs validate + export in one stream", base / mine, "the cost of per-tree rows"),
    ]


def workers_section(lines: list[bytes], workdir: Path) -> list[Row]:
    """``intermt convert --workers 2`` against one process, whole command, same file."""
    source = workdir / "workers.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    seconds = {}
    for workers in ("1", "2"):
        command = [sys.executable, "-m", "intermt_schema.cli", "convert", str(source)]
        command += ["--to", "sharegpt", "-o", str(workdir / f"w{workers}.json")]
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([*command, "--workers", workers], check=True, capture_output=True)
            runs.append(time.perf_counter() - start)
        seconds[workers] = statistics.median(runs)
    return [
        ("convert to sharegpt, 1 process, s", seconds["1"], ""),
        ("  --workers 2 speed-up", seconds["1"] / seconds["2"], "2 cores"),
    ]


# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across fork and exec.
_PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"


def import_section(trees: list[im.DialogueTree], workdir: Path) -> list[Row]:
    """InterMT flat records (one per path, from splitting the corpus) back into trees."""
    from intermt_schema.formats import intermt_bench

    target = workdir / "flat.json"
    loss = intermt_bench.export(trees, str(target))
    start = time.perf_counter()
    json.loads(target.read_bytes())
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    result = intermt_bench.load(str(target))
    seconds = time.perf_counter() - start
    return [
        (
            f"import {loss.records} InterMT path records into {len(result.trees)} trees, s",
            seconds,
            "",
        ),
        ("  json.loads of the same file / import", baseline / seconds, "target >= 1/3"),
    ]


def pairs_section(trees: list[im.DialogueTree]) -> list[Row]:
    from intermt_schema.sampling.pairs import sample_pairs

    rows: list[Row] = []
    for strategy in STRATEGIES:
        start = time.perf_counter()
        pairs, _ = sample_pairs(trees, strategy=strategy)
        seconds = time.perf_counter() - start
        rows.append(
            (
                f"pairs {strategy}: {len(pairs)} pairs, s",
                seconds,
                f"{len(trees) / seconds:,.0f} trees/s",
            )
        )
    return rows


PEAK_SCRIPT = f"""
import sys
from intermt_schema import validate_path
n = sum(1 for r in validate_path(sys.argv[1]) if r.accepted)
print(n, {_PEAK})
"""


def peak_kib(script: str, *args: str) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], check=True, capture_output=True, text=True
    ).stdout.split()
    return int(out[0]), int(out[1])


CONVERT_SCRIPT = f"""
import io, sys
from intermt_schema.cli import main
main(["convert", sys.argv[1], "--to", sys.argv[2], "-o", sys.argv[3]], out=io.StringIO())
print(0, {_PEAK})
"""


PAIRS_SCRIPT = f"""
import io, sys
from intermt_schema.cli import main
args = ["pairs", sys.argv[1], "--strategy", "all", "--to", "trl", "-o", sys.argv[2]]
main(args, out=io.StringIO())
print(0, {_PEAK})
"""


def memory_section(workdir: Path, trees: int) -> list[Row]:
    small = write_corpus(workdir / "x1", trees)
    large = write_corpus(workdir / "x10", trees, repeat=10)
    n1, kib1 = peak_kib(PEAK_SCRIPT, str(small))
    n10, kib10 = peak_kib(PEAK_SCRIPT, str(large))
    assert n1 * 10 == n10
    rows = [
        (f"validate peak RSS, {n1} trees (MiB)", kib1 / 1024, ""),
        (f"validate peak RSS, {n10} trees (MiB)", kib10 / 1024, ""),
        ("  10x input / 1x input peak", kib10 / kib1, "target well under 10x"),
    ]
    for name, suffix in (("parquet", ".parquet"), ("trl", ".jsonl"), ("sharegpt", ".json")):
        _, c1 = peak_kib(CONVERT_SCRIPT, str(small), name, str(workdir / f"c1{suffix}"))
        _, c10 = peak_kib(CONVERT_SCRIPT, str(large), name, str(workdir / f"c10{suffix}"))
        rows.append(
            (
                f"convert to {name}: 10x / 1x peak RSS",
                c10 / c1,
                f"{c1 / 1024:.0f} -> {c10 / 1024:.0f} MiB",
            )
        )
    _, p1 = peak_kib(PAIRS_SCRIPT, str(small), str(workdir / "p1.jsonl"))
    _, p10 = peak_kib(PAIRS_SCRIPT, str(large), str(workdir / "p10.jsonl"))
    rows.append(
        ("pairs to trl: 10x / 1x peak RSS", p10 / p1, f"{p1 / 1024:.0f} -> {p10 / 1024:.0f} MiB")
    )
    return rows


def print_table(rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:10.2f}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trees", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    import random

    rng = random.Random(0)
    lines = [im.encode_tree(make_tree(i, rng)) for i in range(args.trees)]
    rows = decode_section(lines, args.repeats)
    trees = [im.decode_tree(line) for line in lines]
    with tempfile.TemporaryDirectory() as tmp:
        rows += parquet_section(trees, Path(tmp), args.repeats)
        rows += training_section(trees, Path(tmp), args.repeats)
        rows += pair_ratio_section(trees, args.repeats)
        rows += batch_section(lines, Path(tmp), args.repeats)
        rows += workers_section(lines, Path(tmp))
        if args.full:
            rows += memory_section(Path(tmp), 1000)
            rows += scale_section(Path(tmp))
    print_table(rows)


if __name__ == "__main__":
    main()
