"""Expression syntax tree: small frozen dataclasses.

Every node carries `start`/`end` character offsets into the source so that
later stages (the policy checker, the CLI) can point at the exact token.
`and`/`or`/`not` are normalised to `&&`/`||`/`!`; chains of `&&` (or of `||`)
are flattened into one `Logical` node so that `a && b && c && ...` is not
counted as nesting and compiles to flat code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    """`depth` is the nesting depth of the subtree (a leaf is 1), kept so the
    parser can enforce the nesting limit without walking the tree again; it
    takes no part in equality."""

    start: int
    end: int
    depth: int = field(default=1, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """`kind` is one of null, bool, int, double, string, bytes."""

    value: Any
    kind: str


@dataclass(frozen=True, slots=True)
class Ident(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Select(Node):
    """`operand.field`"""

    operand: Node
    field: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    """`operand[index]`"""

    operand: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """`function(args)`, or `target.function(args)` when `target` is set."""

    function: str
    args: tuple[Node, ...]
    target: Node | None = None


@dataclass(frozen=True, slots=True)
class Has(Node):
    """`has(operand.field)`: presence test, no error for a missing key."""

    operand: Node
    field: str


@dataclass(frozen=True, slots=True)
class Macro(Node):
    """`target.macro(var, body)`; `map` with three arguments has `filter` too.

    macro is one of all, exists, exists_one, map, filter.
    """

    macro: str
    target: Node
    var: str
    body: Node
    filter: Node | None = None
    var_start: int = 0


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """op is `!` or `-`"""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """op is one of == != < <= > >= in + - * / %"""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """op is `&&` or `||`, over two or more operands (a flattened chain)."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`cond ? then : otherwise`"""

    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit(Node):
    entries: tuple[tuple[Node, Node], ...]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes, in source order."""
    if isinstance(node, (Literal, Ident)):
        return ()
    if isinstance(node, (Select, Has)):
        return (node.operand,)
    if isinstance(node, Index):
        return (node.operand, node.index)
    if isinstance(node, Call):
        return ((node.target,) if node.target is not None else ()) + node.args
    if isinstance(node, Macro):
        return (node.target,) + ((node.filter,) if node.filter is not None else ()) + (node.body,)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Conditional):
        return (node.cond, node.then, node.otherwise)
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, MapLit):
        return tuple(x for kv in node.entries for x in kv)
    raise TypeError(f"not an expression node: {node!r}")
