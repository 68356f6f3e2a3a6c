"""Trees: a read-only view (lookups, paths, walks), edits, and the merge of linear
conversations into trees (and back).

>>> import intermt_schema as im
>>> t = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("?")]),
...     im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("!")])])
>>> [m.id for m in TreeView(t).paths()[0]]
['q', 'a']
"""

from ._edits import aggregate_scores, keep_best_branch, map_content, prune
from ._merge import Conversation, MergeResult, merge_paths, path_ids, same_tree, split_paths
from ._view import TreeView

__all__ = [
    "Conversation",
    "MergeResult",
    "TreeView",
    "aggregate_scores",
    "keep_best_branch",
    "map_content",
    "merge_paths",
    "path_ids",
    "prune",
    "same_tree",
    "split_paths",
]
