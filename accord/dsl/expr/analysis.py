"""Static questions about a parsed expression, for the policy checker:
which names it reads (and through which member chains), and whether it is a
literal (for the "a guard that can only be a non-bool literal" rule)."""

from __future__ import annotations

from dataclasses import dataclass

from accord.dsl.expr import ast
from accord.dsl.expr.values import TYPES


@dataclass(frozen=True)
class Ref:
    """One free name read by an expression: `a.b.c` → root 'a', path ('b', 'c').

    `start`/`end` span the whole chain; `in_has` is true when the chain is the
    argument of `has()` (its last member may legitimately be absent)."""

    root: str
    path: tuple[str, ...]
    start: int
    end: int
    in_has: bool = False


def _chain(node: ast.Node) -> tuple[ast.Ident, tuple[str, ...]] | None:
    """`a.b["c"].d` → (Ident a, ('b', 'c', 'd')); None when the chain does not start at a name."""
    path: list[str] = []
    while True:
        if isinstance(node, ast.Select):
            path.append(node.field)
            node = node.operand
        elif isinstance(node, ast.Index) and isinstance(node.index, ast.Literal) and node.index.kind == "string":
            path.append(node.index.value)
            node = node.operand
        elif isinstance(node, ast.Ident):
            return node, tuple(reversed(path))
        else:
            return None


def references(node: ast.Node) -> list[Ref]:
    """Every free name the expression reads, in source order, with its static
    member chain.  Macro variables and the builtin type names are not free."""
    out: list[Ref] = []
    # stack items: (node, bound names, inside has)
    stack: list[tuple[ast.Node, frozenset[str], bool]] = [(node, frozenset(), False)]
    while stack:
        n, bound, in_has = stack.pop()
        if isinstance(n, ast.Has):
            n = ast.Select(n.operand.start, n.end - 1, n.operand, n.field)
            in_has = True
        if isinstance(n, (ast.Select, ast.Index, ast.Ident)):
            found = _chain(n)
            if found is not None:
                ident, path = found
                if ident.name not in bound and ident.name not in TYPES:
                    out.append(Ref(ident.name, path, ident.start, n.end, in_has))
                # dynamic indexes inside the chain are expressions of their own
                m = n
                while not isinstance(m, ast.Ident):
                    if isinstance(m, ast.Index) and not (isinstance(m.index, ast.Literal) and m.index.kind == "string"):
                        stack.append((m.index, bound, False))
                    m = m.operand
                continue
        if isinstance(n, ast.Macro):
            inner = bound | {n.var}
            stack.append((n.body, inner, False))
            if n.filter is not None:
                stack.append((n.filter, inner, False))
            stack.append((n.target, bound, False))
            continue
        for child in reversed(ast.children(n)):
            stack.append((child, bound, False))
    out.sort(key=lambda r: (r.start, r.end))
    return out


def literal_type(node: ast.Node) -> str | None:
    """The type name when the node is a literal (`"string"`, `"int"`, ...,
    `"list"`/`"map"` for literal lists and maps), else None."""
    if isinstance(node, ast.Literal):
        return {"null": "null_type", "bool": "bool", "int": "int", "double": "double",
                "string": "string", "bytes": "bytes"}[node.kind]
    if isinstance(node, ast.ListLit):
        return "list"
    if isinstance(node, ast.MapLit):
        return "map"
    return None
