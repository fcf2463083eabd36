"""Flatten and rebuild nested containers (tuples, lists, dicts) of arrays.

Arguments and results of differentiated functions may be nested containers
(tuples, namedtuples, lists, dicts), e.g. a dict of MLP parameters. The transformations work on the flat list of
leaves and rebuild the user's structure at the end. ``None`` is an empty
container (it has no leaves), as in JAX.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class TreeDef:
    """The shape of a container: its kind, keys and children's TreeDefs."""

    __slots__ = ("kind", "keys", "children", "n_leaves", "_hash")

    def __init__(self, kind: Any, keys: Any, children: tuple) -> None:
        self.kind = kind
        self.keys = keys
        self.children = children
        self.n_leaves = 1 if kind is None else sum(c.n_leaves for c in children)
        # Computed once (the children's are): replay looks programs up by structure on every call.
        self._hash = hash((kind, keys, children))

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, TreeDef)
            and self._hash == other._hash
            and self.kind == other.kind
            and self.keys == other.keys
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind is dict:
            return "{" + ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children)) + "}"
        inner = ", ".join(map(repr, self.children))
        if self.kind is list:
            return f"[{inner}]"
        name = "" if self.kind is tuple else self.kind.__name__
        return f"{name}({inner},)"


LEAF = TreeDef(None, None, ())


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """``(leaves, treedef)``; tuples, lists and dicts are containers, ``None`` is empty."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeDef:
    kind = type(tree)
    if kind is tuple or kind is list:
        return TreeDef(kind, None, tuple(_flatten(child, leaves) for child in tree))
    if isinstance(tree, tuple) and hasattr(kind, "_fields"):  # a namedtuple (NumPy's eigh, svd, ...)
        return TreeDef(kind, None, tuple(_flatten(child, leaves) for child in tree))
    if kind is dict:
        keys = tuple(tree.keys())
        return TreeDef(dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if tree is None:
        return TreeDef("none", None, ())
    leaves.append(tree)
    return LEAF


def tree_unflatten(treedef: TreeDef, leaves: list) -> Any:
    """Inverse of :func:`tree_flatten`."""
    it = iter(leaves)
    out = _unflatten(treedef, it)
    return out


def _unflatten(treedef: TreeDef, it: Iterator) -> Any:
    kind = treedef.kind
    if kind is None:
        return next(it)
    if kind == "none":
        return None
    children = [_unflatten(c, it) for c in treedef.children]
    if kind is dict:
        return dict(zip(treedef.keys, children))
    if kind is list:
        return children
    if kind is tuple:
        return tuple(children)
    return kind(*children)  # namedtuple


def tree_map(fn: Callable, tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leaf-wise to one or more trees of the same structure."""
    leaves, treedef = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
    return tree_unflatten(treedef, [fn(*xs) for xs in zip(leaves, *others)])
