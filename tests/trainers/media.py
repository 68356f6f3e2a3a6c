"""Canonical trees whose questions hold a short video, with the clips drawn here (PyAV,
which LLaMA-Factory's environment has for reading videos).

    python media.py OUT

Writes ``OUT/trees.jsonl`` and ``OUT/clip0.mp4``, ``OUT/clip1.mp4``: eight 64x64
frames each, brightening frame by frame.
"""

from __future__ import annotations

import json
import os
import sys

import av
import numpy as np

SIDE, FRAMES = 64, 8


def draw_clip(path: str, shade: int) -> None:
    """An MPEG-4 clip of ``FRAMES`` flat frames, each brighter than the one before."""
    with av.open(path, mode="w") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width = stream.height = SIDE
        stream.pix_fmt = "yuv420p"
        for i in range(FRAMES):
            pixels = np.full((SIDE, SIDE, 3), (shade + 30 * i) % 256, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "trees.jsonl"), "w", encoding="utf-8") as trees:
        for k in range(2):
            name = f"clip{k}.mp4"
            draw_clip(os.path.join(out, name), 60 * k)
            question = [{"type": "video", "video": {"path": name}},
                        {"type": "text", "text": "What changes in this clip?"}]  # fmt: skip
            answer = [{"type": "text", "text": f"It grows brighter, frame by frame ({k})."}]
            tree = {"id": f"video-{k}", "nodes": [
                {"id": "q", "role": "user", "content": question},
                {"id": "a", "parent": "q", "role": "assistant", "content": answer},
            ]}  # fmt: skip
            trees.write(json.dumps(tree) + "\n")


if __name__ == "__main__":
    main()
