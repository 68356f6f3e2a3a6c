"""``intermt publish``: a folder the Hub, ``datasets`` and ``mlcroissant`` read as one
dataset, whose rows are the trees given."""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import structs

import intermt_schema as im
from intermt_schema.cli import main
from intermt_schema.io._arrow import row_to_tree
from intermt_schema.publish import publish_dataset
from intermt_schema.sampling.splits import group_keys
from intermt_schema.validation._images import MediaEmbedder

from .conftest import EXAMPLES, any_trees, count_cases

CONFIGS = ["trees", "paths", "pairs", "ratings", "judgments"]


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("publish") / "hub"
    code, text = run(
        "publish", str(EXAMPLES), "-o", str(folder), "--license", "cc-by-4.0",
        "--pretty-name", "InterMT examples", "--repo", "someone/intermt-examples", "-q",
    )  # fmt: skip
    assert code == 0, text
    return folder


def example_trees() -> list[im.DialogueTree]:
    embed = MediaEmbedder(str(EXAMPLES))
    return [embed(t) for t in im.read_jsonl(str(EXAMPLES / "trees.jsonl"))]


def test_the_folder_is_a_hub_repository(hub: Path) -> None:
    files = sorted(str(p.relative_to(hub)) for p in hub.rglob("*") if p.is_file())
    shards = [f for f in files if f.startswith("data/")]
    assert shards == [f"data/{c}/train-00000-of-00001.parquet" for c in sorted(CONFIGS)]
    assert "README.md" in files and "croissant.json" in files
    assert any(f.startswith("plots/") and f.endswith(".png") for f in files)
    card = (hub / "README.md").read_text()
    front = card.split("---\n")[1]
    for needle in ("license: cc-by-4.0", "pretty_name: InterMT examples", "- n<1K",
                   "config_name: pairs", "path: data/pairs/train-*.parquet", "dtype: image",
                   "task_categories:", "num_examples: 6"):  # fmt: skip
        assert needle in front, needle
    body = card.split("---\n", 2)[2]
    for needle in ("## Statistics", "## Dimensions", "## Loss reports", "## How to load",
                   "## Citation", "arXiv:2505.23950", "someone/intermt-examples",
                   "crucial_step_recognition", "judgments used"):  # fmt: skip
        assert needle in body, needle
    for plot in (p for p in files if p.startswith("plots/")):
        assert f"]({plot})" in body


def test_load_dataset_gives_the_trees_and_pairs_with_images(hub: Path) -> None:
    import datasets
    from PIL import Image

    trees = datasets.load_dataset(str(hub), "trees")["train"]
    loaded = sorted(im.from_hf_dataset(trees), key=lambda t: t.id)
    assert loaded == sorted(example_trees(), key=lambda t: t.id)
    pairs = datasets.load_dataset(str(hub), "pairs")["train"]
    assert pairs.num_rows > 0
    images = [
        part["image"]
        for row in pairs
        for side in ("prompt", "chosen", "rejected")
        for message in row[side]
        for part in message["content"]
        if part["image"] is not None
    ]
    assert images and all(isinstance(image, Image.Image) for image in images)
    for config in ("paths", "ratings", "judgments"):
        rows = datasets.load_dataset(str(hub), config)["train"].num_rows
        assert rows == pq.read_table(hub / "data" / config).num_rows > 0


def test_pairs_hold_the_prompt_and_both_continuations(hub: Path) -> None:
    by_id = {t.id: t for t in example_trees()}
    rows = pq.read_table(hub / "data" / "pairs").to_pylist()
    scopes = Counter(row["scope"] for row in rows)
    assert scopes["local"] and scopes["global"], scopes
    for row in rows:
        tree = by_id[row["tree_id"]]
        nodes = {n.id: n for n in tree.nodes}
        prompt = [m["id"] for m in row["prompt"]]
        chosen, rejected = ([m["id"] for m in row[k]] for k in ("chosen", "rejected"))
        assert chosen[0] != rejected[0] and nodes[chosen[0]].parent == nodes[rejected[0]].parent
        assert (prompt[-1] if prompt else None) == nodes[chosen[0]].parent
        if row["scope"] == "local":
            assert len(chosen) == len(rejected) == 1


def test_mlcroissant_validates_and_reads_the_parquet_rows(hub: Path) -> None:
    import mlcroissant as mlc

    dataset = mlc.Dataset(str(hub / "croissant.json"))
    assert not dataset.metadata.issues.errors
    document = json.loads((hub / "croissant.json").read_text())
    assert [r["name"] for r in document["recordSet"]] == CONFIGS
    assert document["url"] == "https://huggingface.co/datasets/someone/intermt-examples"

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, dict):
            return {k.rsplit("/", 1)[1]: plain(v) for k, v in value.items()}
        return value

    for config in CONFIGS:
        read = [plain(r) for r in dataset.records(config)]
        rows = pq.read_table(hub / "data" / config).to_pylist()
        assert len(read) == len(rows) > 0
        for got, row in zip(read, rows, strict=True):
            for name, value in got.items():
                expected = row[name]
                if isinstance(value, dict):
                    expected = {k: row[name][k] for k in value}
                assert value == expected, (config, name)


def test_splits_share_no_group_and_shards_roll_over(tmp_path: Path) -> None:
    base = example_trees()
    trees = []
    for copy in range(8):
        for tree in base:  # copies share prompts and images with their original
            trees.append(structs.replace(tree, id=f"{tree.id}-{copy}"))
    report = publish_dataset(
        trees, str(tmp_path), fractions=(0.5, 0.25, 0.25), shard_bytes=100_000, plots=False
    )
    splits = report.written["trees"]
    assert set(splits) == {"train", "validation", "test"}
    assert max(len(s.files) for s in splits.values()) > 1  # rolled over at 100 kB
    seen: dict[str, str] = {}
    ids = []
    for split, shards in splits.items():
        for f in shards.files:
            assert f.startswith(f"data/trees/{split}-") and f"-of-{len(shards.files):05d}" in f
            for row in pq.read_table(tmp_path / f).to_pylist():
                ids.append(row["id"])
                for key in group_keys(row_to_tree(row), ["tree", "prompt", "image"]):
                    assert seen.setdefault(key, split) == split, key
    assert sorted(ids) == sorted(t.id for t in trees)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no scratch left


def _rating_table(count: int) -> Any:
    from intermt_schema.io._arrow import arrow_schema
    from intermt_schema.io._columns import to_table
    from intermt_schema.publish._rows import RatingRow

    rows = [RatingRow(tree_id=f"t{i}", target="a", scope="local", dimension="d", score=i)
            for i in range(count)]  # fmt: skip
    return to_table(rows, arrow_schema(False, RatingRow))


def test_a_shard_rolls_over_before_its_footer_grows_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intermt_schema.publish import _shards
    from intermt_schema.publish._rows import RatingRow

    monkeypatch.setattr(_shards, "SHARD_COLUMN_CHUNKS", 2 * 9)  # two groups of 9 columns
    shards = _shards.ShardSet(str(tmp_path), {"ratings": RatingRow})
    table = _rating_table(2500)
    for start in range(0, 2500, 62):  # a tree's worth at a time; row groups of 1000 rows
        shards.add_table("ratings", "train", table.slice(start, 62))
    written = shards.close()["ratings"]["train"]
    groups = [pq.ParquetFile(tmp_path / f).metadata.num_row_groups for f in written.files]
    assert groups == [2, 1] and written.rows == 2500
    ids = [r for f in written.files for r in pq.read_table(tmp_path / f)["tree_id"].to_pylist()]
    assert ids == [f"t{i}" for i in range(2500)]


@pytest.mark.parametrize("piece", [62, 4321])
def test_tables_however_cut_fill_shards_of_about_the_size_in_order(
    tmp_path: Path, piece: int
) -> None:
    from intermt_schema.publish import _shards
    from intermt_schema.publish._rows import RatingRow

    shards = _shards.ShardSet(str(tmp_path), {"ratings": RatingRow}, shard_bytes=30_000)
    table = _rating_table(4321)
    for start in range(0, table.num_rows, piece):
        shards.add_table("ratings", "train", table.slice(start, piece))
    written = shards.close()["ratings"]["train"]
    sizes = [os.path.getsize(tmp_path / f) for f in written.files]
    assert len(sizes) > 2 and max(sizes) <= 2 * 30_000, sizes  # rolled over near the size
    ids = [r for f in written.files for r in pq.read_table(tmp_path / f)["tree_id"].to_pylist()]
    assert ids == [f"t{i}" for i in range(4321)]


def test_push_uploads_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub as hub_lib

    calls: list[tuple[str, dict[str, Any]]] = []

    class FakeApi:
        def __init__(self, token: str | None = None) -> None:
            pass

        def create_repo(self, repo_id: str, **kw: Any) -> None:
            calls.append(("create_repo", {"repo_id": repo_id, **kw}))

        def upload_folder(self, **kw: Any) -> None:
            calls.append(("upload_folder", kw))

    monkeypatch.setattr(hub_lib, "HfApi", FakeApi)
    out = tmp_path / "hub"
    code, text = run("publish", str(EXAMPLES), "-o", str(out), "--push", "me/data",
                     "--private", "--no-plots", "-q")  # fmt: skip
    assert code == 0, text
    assert "pushed: https://huggingface.co/datasets/me/data" in text
    assert calls[0] == ("create_repo", {"repo_id": "me/data", "repo_type": "dataset",
                                        "private": True, "exist_ok": True})  # fmt: skip
    assert calls[1][1]["folder_path"] == str(out) and calls[1][1]["repo_id"] == "me/data"
    assert "me/data" in (out / "README.md").read_text()
    assert not (out / "plots").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--license", "cc by"], "not a Hub identifier"),
        (["--language", "English"], "not a code"),
        (["--private"], "--private applies to --push"),
        (["--shard-size", "0"], "--shard-size"),
        (["--fractions", "0.5,x"], "bad --fractions"),
        (["--group-by", "tree,author"], "group_by"),
        (["--repo", "a/b", "--push", "c/d"], "name two repositories"),
        (["--repo", "no-owner"], "not owner/name"),
        (["--strategy", "best_worst", "--cap-per-tree", "0"], "cap_per_tree"),
    ],
)
def test_options_are_checked_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    out = tmp_path / "hub"
    code, _ = run("publish", str(EXAMPLES), "-o", str(out), "-q", *flags)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_remote_output_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("publish", str(EXAMPLES), "-o", "memory://hub", "-q")
    assert code == 2 and "local folder" in capsys.readouterr().err


def _rows(folder: Path, written: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Each configuration's split rows, as sorted canonical JSON."""
    return {
        (config, split): sorted(
            json.dumps(row, sort_keys=True, default=repr)
            for f in shards.files
            for row in pq.read_table(folder / f).to_pylist()
        )
        for config, splits in written.items()
        for split, shards in splits.items()
    }


def test_publish_workers_write_the_rows_one_process_writes_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from intermt_schema.publish import MARK_TREES

    base = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    copies = -(-3 * MARK_TREES // len(base))  # three marks: ranges of two and one
    source = tmp_path / "trees.jsonl"
    im.write_jsonl(
        [structs.replace(t, id=f"{t.id}-{c}") for c in range(copies) for t in base], str(source)
    )
    with open(source, "ab") as f:  # a broken record (rejected) and a repeated id (a warning)
        f.write(b'{"id": "broken", "nodes": [}\n' + source.read_bytes().splitlines()[0] + b"\n")
    written = {}
    for workers in ("1", "2"):
        out = tmp_path / f"hub{workers}"
        flags = ["--images-root", str(EXAMPLES), "--no-plots", "--group-by", "tree"]
        rejects = ["--rejects", str(tmp_path / f"rejects{workers}.jsonl")]
        code, text = run(
            "publish", str(source), "-o", str(out), *flags, *rejects, "--workers", workers
        )
        assert code == 1 and "1 rejected" in text and "duplicate_tree_id" in text, text
        rows = {}
        for folder in sorted((out / "data").iterdir()):
            for split in ("train", "validation", "test"):
                files = sorted(folder.glob(f"{split}-*.parquet"))
                rows[folder.name, split] = [r for f in files for r in pq.read_table(f).to_pylist()]
        written[workers] = (rows, re.sub(r" in \d+ shards", "", text))
    one, two = written["1"], written["2"]
    assert one[0] == two[0]  # the same rows, in the same order
    assert sum(len(r) for r in one[0].values()) > 0
    assert one[1] == two[1]  # the same summary, pair report and rows per split
    shards = {w: len(list((tmp_path / f"hub{w}" / "data" / "trees").glob("train-*"))) for w in "12"}
    assert shards == {"1": 1, "2": 2}  # each worker wrote shards of its own
    rejected = [(tmp_path / f"rejects{w}.jsonl").read_bytes() for w in "12"]
    assert rejected[0] == rejected[1] and rejected[0].count(b"\n") == 1
    code, _ = run("publish", str(source), "-o", str(tmp_path / "no"), "--workers", "0", "-q")
    assert code == 2 and "--workers must be at least 1, not 0" in capsys.readouterr().err


def test_ray_publish_gives_the_rows_one_process_gives(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    trees = [
        structs.replace(tree, id=f"{tree.id}-{copy}")
        for copy in range(4)
        for tree in im.read_jsonl(str(EXAMPLES / "trees.jsonl"))
    ]
    options: dict[str, Any] = {"fractions": (0.5, 0.25, 0.25), "shard_bytes": 100_000,
                               "images_root": str(EXAMPLES), "plots": False}  # fmt: skip
    local = publish_dataset(trees, str(tmp_path / "local"), **options)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        lines = [{"text": im.encode_tree(t).decode()} for t in trees]
        dataset = ray.data.from_items(lines, override_num_blocks=3)
        spread = im.publish_ray(dataset, str(tmp_path / "ray"), **options)
        refused = ray.data.from_items([{"source": "contrib.jsonl", "line": 3, "tree": None}])
        with pytest.raises(im.SchemaError, match=r"^contrib\.jsonl:3: the tree was refused"):
            im.publish_ray(refused, str(tmp_path / "refused"), plots=False)
    finally:
        ray.shutdown()
    assert spread.trees == local.trees == len(trees)
    assert _rows(tmp_path / "ray", spread.written) == _rows(tmp_path / "local", local.written)
    assert spread.pairs.render() == local.pairs.render()
    # small rows: one shard per split in one process, one per block and split on Ray
    files = [sum(len(s.files) for s in r.written["judgments"].values()) for r in (local, spread)]
    assert files[0] == len(local.written["judgments"]) < files[1]
    for shards in spread.written["trees"].values():
        assert all(f"-{k:05d}-of-{len(shards.files):05d}" in f for k, f in enumerate(shards.files))
    cards = [(tmp_path / name / "README.md").read_text() for name in ("local", "ray")]
    stats = [
        card[card.index("trees          ") : card.index("ratings by dimension")] for card in cards
    ]
    assert stats[0] == stats[1]
    assert not [p for p in os.listdir(tmp_path / "ray") if p.startswith(".trees")]
    from datasets import load_dataset

    pairs = load_dataset(str(tmp_path / "ray"), "pairs", split="train")
    assert len(pairs) == local.written["pairs"]["train"].rows
    assert type(pairs[0]["chosen"][0]["content"]).__name__ == "list"


def test_videos_and_audio_are_embedded_and_the_missing_counted(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    clip, sound = b"\x00\x00\x00\x18ftypmp42" + bytes(64), b"RIFF\x24\x00\x00\x00WAVE" + bytes(32)
    (root / "clip.mp4").write_bytes(clip)
    (root / "sound.wav").write_bytes(sound)
    (root / "huge.wav").write_bytes(b"RIFF" + bytes(2000))
    question = im.Message(id="q", role="user", content=[
        im.VideoPart(video=im.MediaRef(path="clip.mp4")),
        im.AudioPart(audio=im.MediaRef(path="sound.wav")),
        im.AudioPart(audio=im.MediaRef(path="gone.wav")),
        im.AudioPart(audio=im.MediaRef(path="huge.wav")),
        im.TextPart("What is heard?"),
    ])  # fmt: skip
    tree = im.DialogueTree(id="t", nodes=[question])
    embedded = MediaEmbedder(str(root), im.ImageLimits(max_bytes=1000))(tree)
    assert [ref.bytes for _, _, ref in embedded.media()] == [clip, sound, None, None]
    report = publish_dataset([tree], str(tmp_path / "hub"), images_root=str(root),
                             fractions=(1.0,), plots=False)  # fmt: skip
    (row,) = pq.read_table(tmp_path / "hub" / report.written["trees"]["train"].files[0]).to_pylist()
    back = [ref.bytes for _, _, ref in row_to_tree(row).media()]
    assert back == [clip, sound, None, b"RIFF" + bytes(2000)]  # the default limit is 64 MiB
    assert report.unembedded_media == 1
    assert "1 video and audio files carry no bytes" in report.render()


def test_tables_of_several_trees_hold_what_their_rows_hold() -> None:
    from intermt_schema.io._arrow import arrow_schema
    from intermt_schema.io._columns import to_table
    from intermt_schema.publish._rows import CONFIGS, config_rows, config_tables

    seen = count_cases("test_tables_of_several_trees_hold_what_their_rows_hold")

    @settings(max_examples=60, deadline=None)
    @given(st.lists(any_trees(max_nodes=8), max_size=4), st.sampled_from(["all", "best_worst"]))
    def run(items: list[im.DialogueTree], strategy: str) -> None:
        pairs = [p for _, p in im.iter_pairs(items, strategy=strategy, ties="keep")]  # type: ignore[arg-type]
        rows = [config_rows(tree, found) for tree, found in zip(items, pairs, strict=True)]
        tables = config_tables(items, pairs)
        for config, cls in CONFIGS.items():
            found = [row for tree_rows in rows for row in tree_rows[config]]
            expected = to_table(found, arrow_schema(False, cls))
            assert tables[config].equals(expected), config
        seen["several trees with messages"] += sum(bool(t.nodes) for t in items) > 1
        paths = tables_rows(rows, "paths")
        seen["paths of several messages"] += any(len(r.messages) > 1 for r in paths)
        seen["paths with ratings"] += any(r.ratings for r in paths)
        seen["paths with judgments"] += any(r.judgments for r in paths)
        seen["pairs"] += bool(tables["pairs"].num_rows)
        seen["pairs with a prompt"] += any(r.prompt for r in tables_rows(rows, "pairs"))

    run()
    for case in ("several trees with messages", "paths of several messages", "pairs",
                 "pairs with a prompt", "paths with ratings", "paths with judgments"):  # fmt: skip
        assert seen[case] >= 1, seen


def test_tables_of_a_tree_with_a_repeated_id_hold_what_its_rows_hold() -> None:
    from intermt_schema.io._arrow import arrow_schema
    from intermt_schema.io._columns import to_table
    from intermt_schema.publish._rows import CONFIGS, config_rows, config_tables

    q = im.Message(id="q", role="user", content=[im.TextPart("first")])
    again = im.Message(id="q", role="user", content=[im.TextPart("second")])
    a = im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("answer")])
    tree = im.DialogueTree(id="t", nodes=[q, again, a])  # validation refuses it; no crash
    tables = config_tables([tree], [[]])
    for config, cls in CONFIGS.items():
        expected = to_table(config_rows(tree, [])[config], arrow_schema(False, cls))
        assert tables[config].equals(expected), config
    assert tables["paths"].column("messages").to_pylist()[0][0]["content"][0]["text"] == "first"


def tables_rows(rows: list[dict[str, list[Any]]], config: str) -> list[Any]:
    return [row for tree_rows in rows for row in tree_rows[config]]


def test_flat_rows_are_built_column_by_column_as_row_by_row() -> None:
    import pyarrow as pa

    from intermt_schema.io._arrow import arrow_schema, to_rows
    from intermt_schema.io._columns import to_table
    from intermt_schema.publish._rows import JudgmentRow, RatingRow, config_rows

    seen = count_cases("test_flat_rows_are_built_column_by_column_as_row_by_row")

    @settings(max_examples=60, deadline=None)
    @given(st.lists(any_trees(max_nodes=8), max_size=4))
    def run(items: list[im.DialogueTree]) -> None:
        for cls, config in ((RatingRow, "ratings"), (JudgmentRow, "judgments")):
            rows = [row for tree in items for row in config_rows(tree, [])[config]]
            schema = arrow_schema(False, cls)
            expected = pa.Table.from_pylist(to_rows(rows), schema=schema)
            assert to_table(rows, schema).equals(expected)
            seen[f"{config} tables"] += bool(rows)
            seen["real scores"] += sum(type(getattr(r, "score", 0)) is float for r in rows)
            seen["annotators"] += sum(r.annotator is not None for r in rows)
            seen["outcomes"] += sum(bool(getattr(r, "outcomes", None)) for r in rows)

    run()
    for case in ("ratings tables", "judgments tables", "real scores", "annotators", "outcomes"):
        assert seen[case] >= 1, seen


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("content", [b"", b'{"id": "t", "nodes": [{"id": 1}]}\n'])
def test_publishing_no_accepted_tree_says_so_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, workers: str
) -> None:
    source = tmp_path / "trees.jsonl"
    source.write_bytes(content)
    hub = tmp_path / "hub"
    code, text = run("publish", str(source), "-o", str(hub), "--no-plots", "--workers", workers)
    assert code == 1
    assert f"{len(content.splitlines())} records read: 0 accepted" in text
    assert "no tree to publish" in capsys.readouterr().err
    assert not hub.exists() and os.listdir(tmp_path) == ["trees.jsonl"]
    with pytest.raises(im.IntermtError, match="no tree to publish"):
        publish_dataset([], str(tmp_path / "lib"), plots=False)


def test_any_trees_validation_accepts_publish(tmp_path_factory: pytest.TempPathFactory) -> None:
    seen = count_cases("test_any_trees_validation_accepts_publish")

    @settings(max_examples=25, deadline=None)
    @given(st.lists(any_trees(max_nodes=8), min_size=1, max_size=4, unique_by=lambda t: t.id))
    def run(items: list[im.DialogueTree]) -> None:
        accepted = [t for t in items if im.validate(t).ok]
        seen["refused by validation"] += len(items) - len(accepted)
        if not accepted:
            return
        folder = tmp_path_factory.mktemp("any")
        report = publish_dataset(accepted, str(folder), fractions=(0.5, 0.5), plots=False)
        assert sum(s.rows for s in report.written["trees"].values()) == len(accepted)
        ratings = sum(s.rows for s in report.written.get("ratings", {}).values())
        assert ratings == sum(len(t.ratings) for t in accepted)
        seen["published"] += 1
        seen["with pairs"] += sum(s.rows for s in report.written.get("pairs", {}).values()) > 0
        seen["with images"] += any(True for t in accepted for _ in t.images())

    run()
    for case in ("published", "with images", "with pairs"):
        assert seen[case] >= 1, seen


def test_the_publish_entry_points_share_their_options_and_defaults() -> None:
    """``publish_dataset``, ``publish_spooled`` and ``publish_ray`` each spell out their
    keyword options, typed; they must stay the same options with the same defaults."""
    import inspect

    from intermt_schema.publish import publish_dataset, publish_ray, publish_spooled

    def options(fn: Any) -> dict[str, Any]:
        params = inspect.signature(fn).parameters.values()
        return {p.name: (p.annotation, p.default) for p in params if p.kind is p.KEYWORD_ONLY}

    spooled, dataset, ray = options(publish_spooled), options(publish_dataset), options(publish_ray)
    assert len(spooled) >= 10
    assert {k: v for k, v in dataset.items() if k != "images_root"} == spooled
    assert {k: v for k, v in ray.items() if k != "images_root"} == {
        k: v for k, v in spooled.items() if k != "workers"
    }
    assert dataset["images_root"] == ray["images_root"]
