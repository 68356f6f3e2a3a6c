"""Every registered format: round trips, consumer rules, and the real fixtures."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.formats import (
    available_formats,
    detect_format,
    get_format,
    llava,
    sharegpt,
    trl,
)
from intermt_schema.io._json_records import read_json_records
from intermt_schema.testing import trees
from intermt_schema.tree import TreeView

from .conftest import EXAMPLES, fixture_path

MODES = {
    "sharegpt": ["sft", "ranking"],
    "llava": ["sft", "dpo"],
    "trl": ["sft", "preference", "kto"],
    "intermt-bench": [None],
    "openai": [None],
}
CHECKS = {"sharegpt": sharegpt.check_record, "llava": llava.check_record, "trl": trl.check_record}
LOSSLESS = [f.name for f in available_formats() if f.lossless and f.name != "hf"]
LOSSY = [(name, mode) for name, modes in MODES.items() for mode in modes]
pytest.importorskip("pyarrow")


def _options(name: str, mode: str | None) -> dict:
    if mode is None:
        return {}
    return {"mode": mode}


def _spoken(tree: im.DialogueTree) -> list[list[tuple[str, str]]]:
    """Each root-to-leaf path's (role, text) turns, without system turns."""
    result = []
    for path in TreeView(tree).paths():
        while path and path[-1].role != "assistant":
            path = path[:-1]
        result.append(
            [
                (m.role, "".join(p.text for p in m.content if isinstance(p, im.TextPart)))
                for m in path
                if m.role != "system"
            ]
        )
    return result


@pytest.mark.parametrize("name", LOSSLESS)
@given(items=st.lists(trees(max_nodes=8), max_size=3))
def test_lossless_formats_give_back_the_same_trees(name: str, items, tmp_path_factory) -> None:
    fmt = get_format(name)
    out = tmp_path_factory.mktemp(name) / f"out{fmt.suffix}"
    assert fmt.export(items, str(out)).lossless
    assert fmt.load(str(out)).trees == items


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(items=st.lists(trees(max_nodes=8), max_size=2))
def test_hf_dataset_round_trip(items, tmp_path_factory) -> None:
    pytest.importorskip("datasets")
    out = tmp_path_factory.mktemp("hf") / "ds"
    get_format("hf").export(items, str(out))
    assert get_format("hf").load(str(out)).trees == items


@pytest.mark.parametrize("name,mode", LOSSY)
@given(tree=trees(max_nodes=10))
def test_lossy_exports_keep_rules_text_roles_and_account_for_the_rest(
    name: str, mode: str | None, tree: im.DialogueTree, tmp_path_factory
) -> None:
    fmt = get_format(name)
    out = tmp_path_factory.mktemp(name) / f"out{fmt.suffix}"
    loss = fmt.export([tree], str(out), **_options(name, mode))
    records = (
        json.loads(out.read_text())
        if fmt.suffix == ".json"
        else [json.loads(line) for line in out.read_text().split("\n") if line]
    )
    assert loss.records == len(records)
    for record in records:
        assert CHECKS.get(name, lambda r: [])(record) == [], record
    if mode in (None, "sft") and name != "intermt-bench":
        # text, roles and order survive: every path comes back, though siblings with
        # identical content merge (content addressing cannot tell them apart)
        back = [p for t in fmt.load(str(out)).trees for p in _spoken(t)]
        source = [p for p in _spoken(tree) if p]
        assert all(p in source for p in back)
        missing = [p for p in source if not any(b[: len(p)] == p for b in back)]
        refused = sum(v for k, v in loss.dropped.items() if k.startswith("paths"))
        assert len(missing) <= refused
    if mode in ("ranking", "dpo", "preference", "kto"):
        assert loss.dropped["ratings"] == len(tree.ratings)
        decided = len(records) // (2 if mode == "kto" else 1)
        refused = sum(v for k, v in loss.dropped.items() if "judgment" in k or "pairs" in k)
        assert decided + refused == len(tree.judgments)


def test_images_only_in_prompts_and_counts_match_on_examples(tmp_path: Path) -> None:
    tree_list = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    for name, mode in [
        ("sharegpt", "sft"),
        ("sharegpt", "ranking"),
        ("llava", "sft"),
        ("llava", "dpo"),
        ("trl", "sft"),
        ("trl", "preference"),
        ("trl", "kto"),
    ]:
        fmt = get_format(name)
        out = tmp_path / f"{name}-{mode}{fmt.suffix}"
        loss = fmt.export(tree_list, str(out), mode=mode, source_root=str(EXAMPLES))
        assert loss.records > 0
        text = out.read_text()
        records = (
            json.loads(text)
            if fmt.suffix == ".json"
            else [json.loads(x) for x in text.split("\n") if x]
        )
        assert all(CHECKS[name](r) == [] for r in records)

        def count(r: dict) -> int:
            image = r.get("images", r.get("image")) or []
            return 1 if isinstance(image, str) else len(image)

        assert sum(map(count, records)) > 0


def test_llava_single_image_mode_refuses_multi_image_paths(tmp_path: Path) -> None:
    q = im.Message(
        id="q",
        role="user",
        content=[
            im.ImagePart(image=im.ImageRef(path="a.png")),
            im.ImagePart(image=im.ImageRef(path="b.png")),
            im.TextPart("Compare"),
        ],
    )
    a = im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("Same")])
    tree = im.DialogueTree(id="t", nodes=[q, a])
    loss = llava.export([tree], str(tmp_path / "x.json"), single_image=True)
    assert (
        loss.records == 0
        and loss.dropped["paths with more than one image (single-image mode)"] == 1
    )
    llava.export([tree], str(tmp_path / "y.json"))
    record = json.loads((tmp_path / "y.json").read_text())[0]
    assert record["image"] == ["a.png", "b.png"]
    assert record["conversations"][0] == {"from": "human", "value": "<image><image>Compare"}


def test_assistant_images_move_to_the_next_question_or_are_dropped(tmp_path: Path) -> None:
    nodes = [
        im.Message(id="q", role="user", content=[im.TextPart("Draw a cat")]),
        im.Message(
            id="a",
            parent="q",
            role="assistant",
            content=[im.TextPart("Here: "), im.ImagePart(image=im.ImageRef(path="cat.png"))],
            meta={"intermt_placeholders": ["<Image, a cat>"]},
        ),
        im.Message(id="f", parent="a", role="user", content=[im.TextPart("Make it blue")]),
        im.Message(id="b", parent="f", role="assistant", content=[im.TextPart("Done")]),
    ]
    tree = im.DialogueTree(id="t", nodes=nodes)
    sharegpt.export([tree], str(tmp_path / "m.json"))
    record = json.loads((tmp_path / "m.json").read_text())[0]
    assert [m["content"] for m in record["messages"]] == [
        "Draw a cat",
        "Here: <Image, a cat>",
        "<image>Make it blue",
        "Done",
    ]
    assert record["images"] == ["cat.png"]
    loss = sharegpt.export([tree], str(tmp_path / "d.json"), assistant_images="drop")
    assert "images" not in json.loads((tmp_path / "d.json").read_text())[0]
    assert loss.dropped["assistant images"] == 1


def test_llamafactory_fixtures_round_trip_exactly(tmp_path: Path) -> None:
    for name, mode, style in [
        ("mllm_demo.json", "sft", "role"),
        ("dpo_en_demo_sample.json", "ranking", "from"),
    ]:
        source = fixture_path("llamafactory", name)
        result = sharegpt.load(str(source))
        assert result.issues == [] and result.records == len(json.loads(source.read_text()))
        assert all(im.validate(t).ok for t in result.trees)
        loss = sharegpt.export(
            result.trees,
            str(tmp_path / name),
            mode,
            style=style,
            source_root=str(source.parent),
            images="copy",
        )
        assert loss.lossless
        key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
        assert sorted(map(key, json.loads((tmp_path / name).read_text()))) == sorted(
            map(key, json.loads(source.read_text()))
        )
    assert (tmp_path / "mllm_demo_data" / "1.jpg").read_bytes() == fixture_path(
        "llamafactory", "mllm_demo_data", "1.jpg"
    ).read_bytes()
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["dpo_en_demo_sample"]["ranking"] is True
    assert info["mllm_demo"]["columns"] == {"messages": "messages", "images": "images"}


def test_formats_are_detected_from_their_records(tmp_path: Path) -> None:
    tree_list = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    for name, mode in LOSSY:
        fmt = get_format(name)
        out = tmp_path / f"{name}-{mode}{fmt.suffix}"
        fmt.export(tree_list, str(out), **_options(name, mode))
        assert detect_format(str(out)) == name, (name, mode)
    assert detect_format(str(EXAMPLES / "trees.jsonl")) == "jsonl"


def test_unknown_format_lists_the_registered_ones() -> None:
    with pytest.raises(im.UnknownNameError, match="available formats: align-anything, alpaca, hf"):
        get_format("alpacca")


def test_hf_export_embeds_images_as_image_features(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    tree_list = list(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    get_format("hf").export(tree_list, str(tmp_path / "ds"), source_root=str(EXAMPLES))
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    part = next(p for p in ds[0]["nodes"][0]["content"] if p["type"] == "image")
    assert part["image"].size == (96, 72)
    back = get_format("hf").load(str(tmp_path / "ds")).trees
    assert [t.id for t in back] == [t.id for t in tree_list]

    def images(tree: im.DialogueTree) -> list[im.ImageRef]:
        return [p.image for n in tree.nodes for p in n.content if isinstance(p, im.ImagePart)]

    pairs = [(a, b) for s, t in zip(tree_list, back, strict=True) for a, b in
             zip(images(s), images(t), strict=True)]  # fmt: skip
    assert len(pairs) == 48  # every image of the examples, in order
    for source, embedded in pairs:  # each image's bytes are its file's bytes
        assert source.path is not None and source.bytes is None
        assert embedded.bytes == (EXAMPLES / source.path).read_bytes()


@pytest.mark.parametrize(
    ("fixture", "fmt", "options", "kept"),
    [
        (("llamafactory", "kto_en_demo_sample.json"), "sharegpt", {}, {}),
        (("llamafactory", "mllm_video_demo.json"), "sharegpt", {}, {}),
        (("llamafactory", "mllm_audio_demo.json"), "sharegpt", {}, {}),
        (("llamafactory", "glaive_toolcall_en_demo_sample.json"), "sharegpt",
         {"style": "from"}, {}),
        (("llamafactory", "reason_tool_use_demo_sample.jsonl"), "llamafactory-v1", {}, {}),
        (("llamafactory", "v1_multimodal_demo_sample.jsonl"), "llamafactory-v1", {}, {}),
        (("llava", "mantis_training_example.json"), "llava", {}, {"id": 2, "images": 1}),
        (("llava", "llava_next_readme_examples.json"), "llava", {}, {"id": 2, "data_source": 1}),
        (("llamafactory", "dpo_en_demo_sample.json"), "sharegpt",
         {"mode": "ranking", "style": "from"}, {}),
        (("llamafactory", "mllm_demo.json"), "sharegpt", {}, {}),
        (("llamafactory", "alpaca_en_demo_sample.json"), "alpaca", {}, {}),
        (("intermt_bench", "crucial_step_sample.json"), "intermt-bench", {}, {}),
        (("trl", "conv_preference.jsonl"), "trl", {"mode": "preference"}, {}),
        (("trl", "conv_preference_implicit.jsonl"), "trl", {"mode": "preference-implicit"}, {}),
        (("trl", "conv_prompt_completion.jsonl"), "trl", {"mode": "prompt-completion"}, {}),
        (("trl", "conv_prompt_only.jsonl"), "trl", {"mode": "prompt-only"}, {}),
        (("trl", "conv_unpaired.jsonl"), "trl", {"mode": "prompt-completion"}, {}),
        (("trl", "conv_lm.jsonl"), "trl", {"mode": "sft"}, {}),
        (("trl", "std_preference.jsonl"), "trl", {"mode": "preference", "style": "standard"}, {}),
        (("oasst", "oasst_en_trees_sample.jsonl"), "oasst", {}, {}),
        (("llamafactory", "v1_sft_demo_sample.jsonl"), "llamafactory-v1", {}, {}),
        (("llamafactory", "v1_dpo_demo_sample.jsonl"), "llamafactory-v1", {"mode": "dpo"}, {}),
    ],
)  # fmt: skip
def test_real_files_come_back_equal_with_the_keys_no_field_holds(
    fixture: tuple[str, str], fmt: str, options: dict[str, Any], kept: dict[str, int],
    tmp_path: Path,
) -> None:  # fmt: skip
    """Keys of real files that no canonical field holds are kept in the meta of the
    record's last message, written back by an export to the same format (the records
    come back equal), and counted by an export to another format."""
    from intermt_schema.formats._linear import RECORD_ENDS, RECORD_KEYS
    from intermt_schema.io._json_records import read_json_records

    source = fixture_path(*fixture)
    result = im.get_format(fmt).load(str(source))
    assert not result.dropped and not [i for i in result.issues if i.severity == "error"]
    held = [node.meta.get(RECORD_KEYS, {}) for t in result.trees for node in t.nodes]
    held += [kept for t in result.trees for n in t.nodes for kept in n.meta.get(RECORD_ENDS, [])]
    found = Counter(key for kept in held for values in kept.values() for key in values)
    assert dict(found) == kept
    out = tmp_path / f"back{im.get_format(fmt).suffix}"
    im.get_format(fmt).export(result.trees, str(out), **options)

    def canonical(path: Path) -> list[str]:
        return sorted(json.dumps(r, sort_keys=True) for _, r, _, _ in read_json_records(str(path)))

    assert canonical(out) == canonical(source)
    other = im.get_format("openai").export(result.trees, str(tmp_path / "other.jsonl"))
    counted = sum(n for k, n in other.dropped.items() if k.startswith("record keys of"))
    assert counted == sum(kept.values())


@pytest.mark.parametrize(
    ("fixture", "fmt", "labels"),
    [(("llamafactory", "kto_en_demo_sample.json"), "sharegpt", 20),
     (("trl", "conv_unpaired.jsonl"), "trl", 1)],
)  # fmt: skip
def test_unpaired_labels_are_ratings_that_every_kto_layout_writes(
    fixture: tuple[str, str], fmt: str, labels: int, tmp_path: Path
) -> None:
    """A KTO ``label`` becomes a ``desirable`` rating of the answer (``kto`` set), and
    comes back as the label of each layout that holds one: ShareGPT's ``label`` (the
    ``kto_tag`` column of ``dataset_info.json``), Alpaca's ``kto_tag``, TRL's unpaired
    ``label``. A layout without one counts the labels."""
    source = fixture_path(*fixture)
    result = im.get_format(fmt).load(str(source))
    ratings = [r for t in result.trees for r in t.ratings]
    assert len(ratings) == labels and {r.dimension for r in ratings} == {"desirable"}
    assert all(t.meta.dimension_sets == ["kto"] and im.validate(t).ok for t in result.trees)
    truth = [r["label"] for _, r, _, _ in read_json_records(str(source))]
    written = {}
    for target, options, key in (("sharegpt", {}, "label"), ("alpaca", {}, "kto_tag"),
                                 ("trl", {"mode": "prompt-completion"}, "label")):  # fmt: skip
        out = tmp_path / target / f"data{im.get_format(target).suffix}"
        im.get_format(target).export(result.trees, str(out), **options)
        written[target] = [r[key] for _, r, _, _ in read_json_records(str(out))]
    assert all(sorted(found) == sorted(truth) for found in written.values()), written
    info = json.loads((tmp_path / "sharegpt" / "dataset_info.json").read_text())
    assert info["data"]["columns"]["kto_tag"] == "label"
    other = im.get_format("llava").export(result.trees, str(tmp_path / "llava.json"))
    assert other.dropped["unpaired labels (desirable ratings; these records hold none)"] == labels


def test_glaive_tool_calls_become_tool_parts_and_a_tool_role() -> None:
    """``function_call`` turns become assistant messages of tool calls, ``observation``
    turns ``tool`` messages, and the ``tools`` column the tools declared on the first
    message; such trees are stamped 1.1 and validate clean."""
    fmt = im.get_format("sharegpt")
    result = fmt.load(str(fixture_path("llamafactory", "glaive_toolcall_en_demo_sample.json")))
    assert result.records == 20 and not result.rejected and not result.dropped
    calls = [p for t in result.trees for n in t.nodes for p in n.content
             if isinstance(p, im.ToolCallPart)]  # fmt: skip
    tool_messages = [n for t in result.trees for n in t.nodes if n.role == "tool"]
    assert len(calls) == len(tool_messages) > 0
    assert all(isinstance(c.arguments, dict) for c in calls)
    declared = [t.nodes[0].tools for t in result.trees if t.nodes[0].tools is not None]
    assert declared and all(isinstance(d, list) for d in declared)
    for tree in result.trees:
        assert im.validate(tree, im.ValidationOptions(strict=True)).ok
        uses_tools = any(n.role == "tool" or n.tools is not None for n in tree.nodes)
        assert im.lowest_version(tree) == ("1.1" if uses_tools else "1.0")
        assert json.loads(im.encode_tree(tree))["schema_version"] == im.lowest_version(tree)


def test_tool_use_is_counted_by_formats_that_cannot_hold_it(tmp_path: Path) -> None:
    """LLaVA has no tool role: a path with tool use is left out whole and counted, and
    every other path is written."""
    result = im.get_format("sharegpt").load(
        str(fixture_path("llamafactory", "glaive_toolcall_en_demo_sample.json"))
    )
    with_tools = sum(any(n.role == "tool" for n in t.nodes) for t in result.trees)
    loss = im.get_format("llava").export(result.trees, str(tmp_path / "l.json"))
    assert loss.dropped["paths with tool calls (the format has no tool calls)"] == with_tools
    assert loss.records == result.records - with_tools  # the repeated record comes back too


def test_an_unrecognised_jsonl_is_refused_not_read_as_canonical(tmp_path: Path) -> None:
    from intermt_schema.cli import main

    source = tmp_path / "other.jsonl"
    source.write_text('{"question": "?", "answer": "!"}\n')
    out = io.StringIO()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["convert", str(source), "--to", "jsonl", "-o", str(tmp_path / "t")], out=out)
    assert code == 2
    assert "cannot tell the format" in err.getvalue() and "--from" in err.getvalue()
    assert not (tmp_path / "t").exists()


def test_open_assistant_ranks_become_judgments_and_trees_come_back() -> None:
    """Sibling ranks become a judgment per ranked pair, which the pair sampler uses;
    every node keeps its Open-Assistant id."""
    path = fixture_path("oasst", "oasst_en_trees_sample.jsonl")
    assert im.detect_format(str(path)) == "oasst"
    result = im.get_format("oasst").load(str(path))
    assert result.records == len(result.trees) == 15 and not result.issues
    expected = 0
    ids = set()
    for line in path.read_text().splitlines():
        stack = [json.loads(line)["prompt"]]
        while stack:
            message = stack.pop()
            ids.add(message["message_id"])
            ranked = [r for r in message.get("replies", []) if isinstance(r.get("rank"), int)]
            expected += len(ranked) * (len(ranked) - 1) // 2
            stack += message.get("replies", [])
    assert {n.id for t in result.trees for n in t.nodes} == ids
    assert sum(len(t.judgments) for t in result.trees) == expected > 0
    pairs, _ = im.sample_pairs(result.trees, source="judgments", strategy="all")
    assert pairs and all(p.scope == "local" for p in pairs)


@pytest.mark.parametrize(
    ("name", "answers", "judgments"),
    [
        ("conv_preference_implicit.jsonl", 2, 1),  # the prompt is what chosen/rejected share
        ("conv_prompt_only.jsonl", 0, 0),
        ("conv_preference.jsonl", 2, 1),
    ],
)
def test_trl_rows_with_an_implicit_prompt_or_only_a_prompt_import(
    name: str, answers: int, judgments: int
) -> None:
    path = fixture_path("trl", name)
    assert im.detect_format(str(path)) == "trl"
    result = im.get_format("trl").load(str(path))
    assert result.records == 1 and not [i for i in result.issues if i.severity == "error"]
    (tree,) = result.trees
    assert sum(n.role == "assistant" for n in tree.nodes) == answers
    assert len(tree.judgments) == judgments
    assert tree.nodes[0].role == "user" and im.validate(tree).ok


def test_alpaca_records_of_llamafactory_come_back_equal(tmp_path: Path) -> None:
    source = fixture_path("llamafactory", "alpaca_en_demo_sample.json")
    assert im.detect_format(str(source)) == "alpaca"
    alpaca = im.get_format("alpaca")
    imported = alpaca.load(str(source))
    assert imported.records == 20 and len(imported.trees) == 20 and not imported.issues
    alpaca.export(imported.trees, str(tmp_path / "back.json"))
    assert json.loads((tmp_path / "back.json").read_text()) == json.loads(source.read_text())
    info = json.loads((tmp_path / "dataset_info.json").read_text())["back"]
    assert info["formatting"] == "alpaca" and "history" not in info["columns"]


def test_alpaca_keeps_system_history_input_and_rankings(tmp_path: Path) -> None:
    records = [
        {
            "system": "Be brief.",
            "history": [["Hi", "Hello."], ["<image>What is it?", "A cat."]],
            "instruction": "Count the legs.",
            "input": "Only the front ones.",
            "output": "Two.",
            "images": ["images/cat.png"],
        },
        {"instruction": "Pick one.", "input": "", "chosen": "This.", "rejected": "That."},
    ]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records))
    alpaca = im.get_format("alpaca")
    imported = alpaca.load(str(path))
    assert [i for i in imported.issues if i.severity == "error"] == []
    sft = [t for t in imported.trees if not t.judgments]
    ranked = [t for t in imported.trees if t.judgments]
    alpaca.export(sft, str(tmp_path / "sft.json"))
    alpaca.export(ranked, str(tmp_path / "rank.json"), mode="ranking")
    assert json.loads((tmp_path / "sft.json").read_text()) == [records[0]]
    assert json.loads((tmp_path / "rank.json").read_text()) == [records[1]]
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert set(info["sft"]["columns"]) >= {"system", "history", "images", "response"}
    assert info["rank"]["ranking"] is True and "chosen" in info["rank"]["columns"]


def test_align_anything_layouts_come_back_equal(tmp_path: Path) -> None:
    """The three align-anything layouts, written as their users write them (images
    beside the file), import and export back equal; keys of PKU-SafeRLHF's layout that
    no canonical field holds are kept, and the order of the two responses too."""
    from intermt_schema.io._json_records import read_json_records, write_json_records

    shutil.copytree(EXAMPLES / "images", tmp_path / "images")
    image = next(p.name for p in (EXAMPLES / "images").iterdir())
    layouts = {
        "supervised": [
            {"prompt": "<image_placeholder> What is here?", "image": f"images/{image}",
             "response": "A kitchen."},
            {"prompt": "Name a colour.", "response": "Blue."},
        ],
        "preference": [
            {"question": "What is here?", "image": f"images/{image}",
             "better_response": "A kitchen.", "worse_response": "A car."},
        ],
        "text-preference": [
            {"prompt": "Is this safe?", "response_0": "No.", "response_1": "Yes, it is.",
             "better_response_id": 1, "is_response_0_safe": True, "is_response_1_safe": False},
            {"prompt": "Say hi.", "response_0": "Hi!", "response_1": "Go away.",
             "better_response_id": 0},
        ],
    }  # fmt: skip
    fmt = im.get_format("align-anything")
    for mode, records in layouts.items():
        source = tmp_path / f"{mode}.json"
        write_json_records(records, str(source), array=True)
        assert im.detect_format(str(source)) == "align-anything"
        result = fmt.load(str(source))
        assert not [i for i in result.issues if i.severity == "error"], result.issues
        out = tmp_path / f"{mode}-back.json"
        loss = fmt.export(result.trees, str(out), mode=mode)
        assert [r for _, r, _, _ in read_json_records(str(out))] == records, loss.render()
    multi = im.get_format("jsonl").load(str(EXAMPLES / "trees.jsonl")).trees
    loss = fmt.export(multi, str(tmp_path / "multi.json"), mode="preference")
    assert any("single-turn" in k for k in loss.dropped)


def test_mantis_images_lists_are_read_and_written_back(tmp_path: Path) -> None:
    """Mantis names its images in an ``images`` list: read as the record's images and
    written back under the same key; its second record repeats the first with
    LLaVA's ``image`` key, and comes back as it was."""
    from intermt_schema.io._json_records import read_json_records

    source = fixture_path("llava", "mantis_training_example.json")
    result = im.get_format("llava").load(str(source))
    assert [ref.path for t in result.trees for ref in t.images()] == [
        "coco/train2017/000000033471.jpg"
    ]
    assert not result.dropped
    out = tmp_path / "back.json"
    im.get_format("llava").export(result.trees, str(out))
    original = [r for _, r, _, _ in read_json_records(str(source))]
    assert [r for _, r, _, _ in read_json_records(str(out))] == original


def test_llamafactory_v1_parts_keep_their_kind_and_place(tmp_path: Path) -> None:
    """v1 image parts stand where they were among the text parts; reasoning parts
    become reasoning parts and tool_call parts tool calls, in order; repeated records
    come back as often as they were written."""
    from intermt_schema.io._json_records import read_json_records

    fmt = im.get_format("llamafactory-v1")
    source = fixture_path("llamafactory", "v1_multimodal_demo_sample.jsonl")
    result = fmt.load(str(source))
    assert not result.issues and not result.dropped
    out = tmp_path / "back.jsonl"
    fmt.export(result.trees, str(out))
    original = [json.dumps(r, sort_keys=True) for _, r, _, _ in read_json_records(str(source))]
    back = [json.dumps(r, sort_keys=True) for _, r, _, _ in read_json_records(str(out))]
    assert len(set(original)) < len(original) and sorted(original) == sorted(back)
    tools = fmt.load(str(fixture_path("llamafactory", "reason_tool_use_demo_sample.jsonl")))
    assert tools.records == len(tools.trees) == 10 and not tools.issues
    kinds = [[type(p).__name__ for p in n.content] for t in tools.trees for n in t.nodes
             if n.role == "assistant"]  # fmt: skip
    assert all(k[0] == "ReasoningPart" for k in kinds)
    assert any("ToolCallPart" in k for k in kinds)


def test_openai_tool_calls_round_trip_and_become_llamafactory_function_calls(
    tmp_path: Path,
) -> None:
    """OpenAI ``tool_calls``, ``tool`` messages with their ``tool_call_id`` and the
    ``tools`` list come back from an OpenAI export; a ShareGPT export writes them as
    ``function_call``/``observation`` turns and a ``tools`` column LLaMA-Factory reads."""
    from intermt_schema.formats.sharegpt import check_record
    from intermt_schema.io._json_records import read_json_records

    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    record = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": [{"type": "text", "text": "18C"}], "tool_call_id": "call_1"},
        {"role": "assistant", "content": [{"type": "text", "text": "18C and sunny."}]},
    ], "tools": tools}  # fmt: skip
    source = tmp_path / "calls.jsonl"
    source.write_text(json.dumps(record) + "\n")
    assert im.detect_format(str(source)) == "openai"
    result = im.get_format("openai").load(str(source))
    assert result.records == 1 and not result.issues
    (tree,) = result.trees
    assert [n.role for n in tree.nodes] == ["user", "assistant", "tool", "assistant"]
    assert tree.nodes[0].tools == tools and tree.nodes[2].tool_call_id == "call_1"
    assert im.validate(tree, im.ValidationOptions(strict=True)).ok
    im.get_format("openai").export(result.trees, str(tmp_path / "back.jsonl"))
    back = [r for _, r, _, _ in read_json_records(str(tmp_path / "back.jsonl"))]
    assert back == [record]
    loss = im.get_format("sharegpt").export(result.trees, str(tmp_path / "lf.json"), style="from")
    (written,) = [r for _, r, _, _ in read_json_records(str(tmp_path / "lf.json"))]
    assert [t["from"] for t in written["conversations"]] == [
        "human", "function_call", "observation", "gpt"]  # fmt: skip
    assert json.loads(written["conversations"][1]["value"]) == {
        "name": "get_weather", "arguments": {"city": "Paris"}}  # fmt: skip
    assert json.loads(written["tools"]) == tools and not check_record(written)
    info = json.loads((tmp_path / "dataset_info.json").read_text())["lf"]
    assert info["columns"]["tools"] == "tools" and loss.held["tools"] == 1


def test_what_other_layouts_cannot_hold_of_tool_use_is_counted(tmp_path: Path) -> None:
    """Reasoning parts that ShareGPT cannot hold are counted one by one; layouts without
    tool use (Open-Assistant, InterMT-Bench) leave such trees or paths out and count
    them, and never write a tool message as an answer."""
    result = im.get_format("llamafactory-v1").load(
        str(fixture_path("llamafactory", "reason_tool_use_demo_sample.jsonl"))
    )
    reasoning = sum(isinstance(p, im.ReasoningPart) for t in result.trees for n in t.nodes
                    for p in n.content)  # fmt: skip
    loss = im.get_format("sharegpt").export(result.trees, str(tmp_path / "s.json"))
    assert loss.dropped["reasoning parts"] == reasoning and loss.records == 10
    with_tools = sum(
        any(n.role == "tool" or any(isinstance(p, im.ToolCallPart) for p in n.content)
            for n in t.nodes) for t in result.trees
    )  # fmt: skip
    oasst = im.get_format("oasst").export(result.trees, str(tmp_path / "o.jsonl"))
    assert oasst.dropped["trees with tool use (Open-Assistant messages are text)"] == with_tools
    assert oasst.dropped["trees that do not start with a question"] == 10 - with_tools
    bench = im.get_format("intermt-bench").export(result.trees, str(tmp_path / "b.json"))
    assert bench.dropped["paths with tool use (InterMT turns are a question and an answer)"] > 0
