"""For each format of other tools, generated files of each of its layouts import and
export back equal, record by record (``intermt_schema.testing.format_samples``). Each
property counts the features its files used and asserts that it saw every one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import intermt_schema as im
from intermt_schema.io._json_records import read_json_records
from intermt_schema.testing import RECORD_FORMATS, FormatSample, format_samples

from .conftest import count_cases

FEATURES = {
    "sharegpt": {"role style", "from style", "system", "images", "videos", "audios",
                 "function_call", "tools", "kto label", "extra keys", "repeated record",
                 "json spelled otherwise", "json as written"},
    "alpaca": {"system", "no input", "history", "images", "kto label", "extra keys",
               "repeated record"},
    "llava": {"llava", "mantis", "images", "image string", "image list", "extra keys",
              "repeated record"},
    "openai": {"system", "images", "tool calls", "tools", "json spelled otherwise",
               "repeated record", "string content", "detail low", "detail None"},
    "trl": {"text only", "vision", "standard", "images", "kto label", "extra keys",
            "repeated record", "tool calls", "tools", "json spelled otherwise",
            "empty content beside calls", "stepwise"},
    "llamafactory-v1": {"sft", "dpo", "text part", "reasoning part", "tool_call part",
                        "image_url part", "video_url part", "audio_url part", "loss_weight",
                        "tools", "json spelled otherwise", "repeated record"},
    "align-anything": {"supervised", "preference", "text-preference", "image", "better 0",
                       "better 1", "extra keys", "repeated record"},
    "oasst": {"labels as ratings", "labels kept as they are", "label without count",
              "label as integer", "label as float", "ranked siblings", "depth 3"},
    "intermt-bench": {"branch at an answer", "branch at a question", "prefix record",
                      "path rated twice", "prompt images", "response images", "placeholders",
                      "blank image slot", "reason"},
}  # fmt: skip


EXAMPLES = {"trl": 250, "openai": 120}
"""More files for formats of many layouts or features, so each is seen every run."""


def _canonical(path: Path) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for _, r, _, _ in read_json_records(str(path)))


def round_trip(sample: FormatSample, folder: Path) -> None:
    """Write ``sample``'s records, import them (the format detected), export them to
    the same format, and assert the records came back equal and nothing was lost."""
    fmt = im.get_format(sample.format)
    source = folder / f"source{fmt.suffix}"
    lines = (json.dumps(r) for r in sample.records)
    source.write_text("[" + ",".join(lines) + "]" if fmt.array else "\n".join(lines) + "\n")
    assert im.detect_format(str(source)) == sample.detected
    result = fmt.load(str(source))
    assert not result.rejected and not result.dropped, [i.message for i in result.issues]
    for tree in result.trees:
        assert im.validate(tree).ok
    out = folder / f"back{fmt.suffix}"
    loss = fmt.export(result.trees, str(out), **sample.options)
    assert _canonical(out) == _canonical(source)
    assert not loss.dropped, loss.render()


def test_every_format_with_a_reader_and_a_writer_has_generated_files() -> None:
    foreign = {f.name for f in im.available_formats() if f.records is not None and f.reader}
    assert set(RECORD_FORMATS) == set(FEATURES) == foreign - {"canonical"}


@pytest.mark.parametrize("name", RECORD_FORMATS)
def test_generated_files_come_back_equal(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    test = f"test_generated_files_come_back_equal[{name}]"

    @settings(
        max_examples=EXAMPLES.get(name, 80),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(format_samples(name))
    def run(sample: FormatSample) -> None:
        round_trip(sample, tmp_path_factory.mktemp(name))
        count_cases(test).update(sample.features)

    run()
    seen = count_cases(test)
    assert FEATURES[name] <= set(seen), FEATURES[name] - set(seen)


def test_meta_that_says_how_a_message_was_written_keeps_messages_apart() -> None:
    from intermt_schema.formats import _trl_rows, alpaca, llamafactory_v1, openai
    from intermt_schema.formats._kept import MESSAGE_KEYS
    from intermt_schema.formats._tools import SPELLING
    from intermt_schema.tree._merge import WRITTEN_AS_META, Conversation, merge_paths

    keys = {alpaca.INPUT_KEY, llamafactory_v1.WEIGHT_META, openai.LAYOUT_META, SPELLING,
            MESSAGE_KEYS, _trl_rows.STEP_LABELS}  # fmt: skip
    assert keys == WRITTEN_AS_META
    question = im.Message(id="", role="user", content=[im.TextPart("Hi")])
    weighted = im.Message(id="", role="user", content=[im.TextPart("Hi")],
                          meta={llamafactory_v1.WEIGHT_META: 0.0})  # fmt: skip
    answer = im.Message(id="", role="assistant", content=[im.TextPart("Hello")])
    merged = merge_paths([Conversation(messages=[question, answer]),
                          Conversation(messages=[weighted, answer])])  # fmt: skip
    assert len(merged.trees) == 2 and not merged.redundant
