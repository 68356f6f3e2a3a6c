"""Tiny, randomly initialised models for the trainer smoke test, built from configs.

    python tiny.py TEXT_FILE... --out DIR

Writes ``DIR/qwen2_vl`` (Qwen2-VL), ``DIR/llava`` (LLaVA with a CLIP vision tower and a
Qwen2 language model) and ``DIR/qwen2`` (text only): hidden size 64, 2 layers, and a
byte-level BPE tokenizer trained on the given text with the special tokens each chat
template needs. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

IM_START, IM_END, EOS = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
VISION = ["<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
LLAVA_IMAGE = "<image>"

CHAT_TEMPLATE = (
    "{% if tools %}{{ '<|im_start|>system\\n' }}{% for tool in tools %}{{ tool | tojson }}"
    "{% endfor %}{{ '<|im_end|>\\n' }}{% endif %}"
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% elif message['content'] %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ IMAGE }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{% for call in message['tool_calls'] or [] %}"
    "{{ '<tool_call>' + (call['function'] | tojson) + '</tool_call>' }}{% endfor %}"
    "{{ '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def tokenizer(texts: list[str], specials: list[str]) -> object:
    """A byte-level BPE tokenizer trained on ``texts``, as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        special_tokens=[EOS, IM_START, IM_END, *specials],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token=IM_END,
        pad_token=EOS,
        additional_special_tokens=specials,
    )
    fast.chat_template = CHAT_TEMPLATE.replace(
        "{{ IMAGE }}", "{{ '" + _image_text(specials) + "' }}"
    )
    return fast


def _image_text(specials: list[str]) -> str:
    if LLAVA_IMAGE in specials:
        return LLAVA_IMAGE
    return "<|vision_start|><|image_pad|><|vision_end|>"


def text_config(vocab: int) -> dict[str, object]:
    return {
        "vocab_size": vocab,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 8192,
    }


def qwen2_vl(out: Path, texts: list[str]) -> None:
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tok = tokenizer(texts, VISION)
    ids = {t: tok.convert_tokens_to_ids(t) for t in VISION}  # type: ignore[attr-defined]
    text = text_config(len(tok))  # type: ignore[arg-type]
    text["rope_parameters"] = {
        "rope_type": "default",
        "rope_theta": 10000.0,
        "mrope_section": [4, 6, 6],
    }
    config = Qwen2VLConfig(
        text_config=text,
        vision_config={
            "depth": 2,
            "embed_dim": 32,
            "hidden_size": 64,
            "num_heads": 2,
            "mlp_ratio": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config)
    images = Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=56 * 56 * 4)
    processor = Qwen2VLProcessor(
        image_processor=images,
        tokenizer=tok,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=tok.chat_template,
    )  # type: ignore[attr-defined]
    model.save_pretrained(out)
    processor.save_pretrained(out)


def llava(out: Path, texts: list[str]) -> None:
    from transformers import (
        CLIPImageProcessor,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tok = tokenizer(texts, [LLAVA_IMAGE])
    text = {"model_type": "qwen2", **text_config(len(tok))}  # type: ignore[arg-type]
    vision = {
        "model_type": "clip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 28,
        "patch_size": 14,
    }
    config = LlavaConfig(
        text_config=text,
        vision_config=vision,
        image_token_index=tok.convert_tokens_to_ids(LLAVA_IMAGE),  # type: ignore[attr-defined]
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    images = CLIPImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    processor = LlavaProcessor(
        image_processor=images,
        tokenizer=tok,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=tok.chat_template,  # type: ignore[attr-defined]
    )
    model.save_pretrained(out)
    processor.save_pretrained(out)


def qwen2(out: Path, texts: list[str]) -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = tokenizer(texts, [])
    torch.manual_seed(0)
    Qwen2ForCausalLM(Qwen2Config(**text_config(len(tok)))).save_pretrained(out)  # type: ignore[arg-type]
    tok.save_pretrained(out)  # type: ignore[attr-defined]


def exported_text(files: list[Path]) -> list[str]:
    """Every string in the given JSON / JSON Lines files (the exported datasets)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for file in files:
        text = file.read_text()
        if file.suffix == ".jsonl":
            for line in text.splitlines():
                if line.strip():
                    walk(json.loads(line))
        else:
            walk(json.loads(text))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", choices=["qwen2_vl", "llava", "qwen2"], action="append")
    args = parser.parse_args()
    texts = exported_text(args.files)
    builders = {"qwen2_vl": qwen2_vl, "llava": llava, "qwen2": qwen2}
    for name in args.only or builders:
        builders[name](args.out / name, texts)
        print(f"built {args.out / name}")


if __name__ == "__main__":
    main()
