from __future__ import annotations

import copy
import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import intermt_schema as im
from intermt_schema.schema._jsonschema import json_schema_text
from intermt_schema.testing import json_values, trees

from .conftest import ROOT

Model = im.pydantic_model(im.DialogueTree)


@given(trees())
def test_encode_then_decode_is_identity(tree: im.DialogueTree) -> None:
    data = im.encode_tree(tree)
    assert im.decode_tree(data) == tree
    assert im.encode_tree(im.decode_tree(data)) == data


@given(trees())
def test_pydantic_accepts_what_msgspec_writes_and_agrees_on_content(tree: im.DialogueTree) -> None:
    data = im.encode_tree(tree)
    model = Model.model_validate_json(data)
    assert im.decode_tree(model.model_dump_json()) == tree


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


def _accepts_msgspec(data: bytes) -> bool:
    try:
        im.decode_tree(data)
    except msgspec.ValidationError:
        return False
    return True


def _accepts_pydantic(data: bytes) -> bool:
    try:
        Model.model_validate_json(data)
    except ValidationError:
        return False
    return True


@given(trees(max_nodes=5), st.data())
def test_msgspec_and_pydantic_accept_and_reject_the_same_documents(tree, data) -> None:
    doc = msgspec.to_builtins(tree)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = data.draw(json_values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=5))] = data.draw(json_values)
    raw = json.dumps(doc).encode()
    assert _accepts_msgspec(raw) == _accepts_pydantic(raw), raw


def test_json_schema_in_spec_is_current() -> None:
    stored = (ROOT / "spec" / "intermt-tree.v1.schema.json").read_text(encoding="utf-8")
    assert stored == json_schema_text(), (
        "regenerate: intermt schema > spec/intermt-tree.v1.schema.json"
    )


@given(trees())
def test_json_schema_accepts_generated_trees(tree: im.DialogueTree) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(im.encode_tree(tree)), json.loads(json_schema_text()))


def test_intermt_dimensions_are_the_nine_bench_keys() -> None:
    assert im.INTERMT.keys() == [
        "context_awareness",
        "helpfulness",
        "crucial_step_recognition",
        "global_image_text_consistency",
        "style_coherence",
        "local_image_text_consistency",
        "visual_perceptual_quality",
        "context_coherence",
        "text_quality",
    ]
    assert len(im.INTERMT.of_scope("global")) == 5
    assert len(im.INTERMT.of_scope("local")) == 4
    style = im.INTERMT.get("style_coherence")
    assert [s for s in range(-2, 5) if style.allows(s)] == [-1, 0, 1, 2, 3]
    helpful = im.INTERMT.get("helpfulness")
    assert [s for s in range(-2, 5) if helpful.allows(s)] == [0, 1, 2, 3]


def test_custom_dimension_set_is_registered_and_used_by_validation() -> None:
    mine = im.DimensionSet(
        "likert5", [im.Dimension(key="overall", title="Overall", scope="local", low=1, high=5)]
    )
    im.register_dimension_set(mine)
    assert im.get_dimension_set("likert5") is mine
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(id="q", role="user", content=[im.TextPart("q")]),
            im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("a")]),
        ],
        ratings=[
            im.Rating(target="a", scope="local", dimension="overall", score=5),
            im.Rating(target="a", scope="local", dimension="overall", score=0),
        ],
    )
    report = im.validate(tree, im.ValidationOptions(dimensions=mine))
    assert [(i.code, i.path) for i in report] == [("rating.out_of_scale", "/ratings/1/score")]
    with pytest.raises(im.UnknownNameError, match="available: intermt, kto, likert5, oasst"):
        im.get_dimension_set("nope")


def test_unknown_fields_are_ignored_and_unknown_part_types_rejected() -> None:
    doc = {
        "id": "t",
        "future_field": 1,
        "nodes": [
            {"id": "q", "role": "user", "content": [{"type": "text", "text": "x", "lang": "en"}]}
        ],
    }
    assert im.decode_tree(json.dumps(doc)).nodes[0].content == [im.TextPart("x")]
    bad = copy.deepcopy(doc)
    bad["nodes"][0]["content"].append({"type": "hologram", "hologram": {"path": "h.glb"}})
    tree, report = im.decode_and_validate(json.dumps(bad).encode())
    assert tree is None
    assert [(i.code, i.path) for i in report] == [("schema.type", "/nodes/0/content/1")]


def test_structural_errors_are_all_reported_in_one_pass() -> None:
    doc = {
        "id": "t",
        "nodes": [
            {"id": 5, "role": "user", "content": []},
            {"id": "a", "role": "bot", "content": [{"type": "image", "image": {"width": 0}}]},
        ],
        "ratings": [{"target": "a", "scope": "local", "dimension": "x", "score": "3"}],
    }
    _, report = im.decode_and_validate(json.dumps(doc).encode(), source="f.jsonl", line=7)
    assert [i.path for i in report] == [
        "/nodes/0/id",
        "/nodes/1/role",
        "/nodes/1/content/0/image/width",
        "/ratings/0/score",
    ]
    assert {(i.file, i.line, i.tree) for i in report} == {("f.jsonl", 7, "t")}
