"""What schema 1.1 adds (video, audio, reasoning and tool-call parts, tool messages,
declared tools) and 1.2 adds (declared dimension sets, real scores, ratings on
questions) survives every lossless representation, validates, and is stamped with the
lowest version that expresses it. Each property counts the features it saw and asserts
that it saw every one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.schema._jsonschema import json_schema_text
from intermt_schema.tree import same_tree

from .conftest import any_trees, count_cases, count_features

FEATURES = ("trees 1.0", "trees 1.1", "trees 1.2", "tool messages", "declared tools",
            "VideoPart", "AudioPart", "ReasoningPart", "ToolCallPart",
            "declared dimension sets", "real scores", "ratings on questions")  # fmt: skip


def _run(name: str, check: Callable[[list[im.DialogueTree]], None], **options: Any) -> None:
    """Run ``check`` on generated lists of trees and assert every feature was seen."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(any_trees(max_nodes=8, **options), max_size=3, unique_by=lambda t: t.id))
    def run(items: list[im.DialogueTree]) -> None:
        check(items)
        count_features(name, *items)

    run()
    seen = count_cases(name)
    assert all(seen[feature] > 0 for feature in FEATURES), dict(seen)


def test_trees_encode_decode_and_validate_clean_in_every_version() -> None:
    model = im.pydantic_model(im.DialogueTree)
    schema = json.loads(json_schema_text())
    jsonschema = pytest.importorskip("jsonschema")

    def check(items: list[im.DialogueTree]) -> None:
        for tree in items:
            data = im.encode_tree(tree)
            assert im.decode_tree(data) == tree
            assert json.loads(data)["schema_version"] == im.lowest_version(tree)
            assert im.decode_tree(model.model_validate_json(data).model_dump_json()) == tree
            jsonschema.validate(json.loads(data), schema)
            report = im.validate(tree, im.ValidationOptions(strict=True))
            assert report.ok and not report.warnings, report.render()

    _run("test_trees_encode_decode_and_validate_clean_in_every_version", check)


def test_jsonl_parquet_and_paths_round_trips_keep_what_each_version_adds() -> None:
    from intermt_schema.io._tables import paths_table, trees_from_paths

    def check(items: list[im.DialogueTree]) -> None:
        assert im.write_jsonl(items, "memory://v11/t.jsonl") == len(items)
        assert list(im.read_jsonl("memory://v11/t.jsonl")) == items
        assert im.write_parquet(items, "memory://v11/t.parquet") == len(items)
        back_from_parquet = list(im.read_parquet("memory://v11/t.parquet"))
        assert back_from_parquet == items  # and 1.0 stays a float, 1 an integer:
        assert [im.encode_tree(t) for t in back_from_parquet] == [im.encode_tree(t) for t in items]
        back = {t.id: t for t in trees_from_paths(paths_table(items))}
        assert all(same_tree(back[t.id], t) for t in items)

    _run("test_jsonl_parquet_and_paths_round_trips_keep_what_each_version_adds", check)


def test_a_newer_version_and_an_older_stamp_are_handled() -> None:
    """A record of a version this reader does not know is refused with
    ``schema.version``; a writer stamps the lowest version, whatever the tree said."""
    question = im.Message(id="q", role="user", content=[im.TextPart("?")])
    doc = {**json.loads(im.encode_tree(im.DialogueTree(id="t", nodes=[question]))),
           "schema_version": "1.3"}  # fmt: skip
    _, report = im.decode_and_validate(json.dumps(doc).encode())
    assert not report.ok and set(report.codes()) == {"schema.version"}
    old = im.DialogueTree(id="t", schema_version="1.1", nodes=[question])
    assert json.loads(im.encode_tree(old))["schema_version"] == "1.0"
    clip = im.VideoPart(video=im.MediaRef(path="clips/a.mp4", duration=1.5))
    new = im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user", content=[clip])])
    assert json.loads(im.encode_tree(new))["schema_version"] == "1.1"


def test_media_paths_follow_the_image_rules() -> None:
    for part in (im.VideoPart(video=im.MediaRef(path="../x.mp4")),
                 im.AudioPart(audio=im.MediaRef(path="/abs.wav"))):  # fmt: skip
        tree = im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user", content=[part])])
        report = im.validate(tree)
        assert not report.ok
        assert all(code.startswith("media.") for code in report.codes()), report.render()
