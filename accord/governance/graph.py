"""`accord graph`: agents and what connects them, as declared by a policy or as observed in a log.

The declared graph comes from the compiled plan, so it shows what the engine will
actually wire (a constraint's default `applies_to` already expanded, for one); the
observed graph comes from the log's `interactions` and `negotiations` tables, with
how often each edge was used in the run. Both render to the same three forms:
text for a terminal, Mermaid for docs and pull requests, Graphviz DOT for layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accord.dsl.plan import Agent, Plan, Rule

FORMATS = ("text", "mermaid", "dot")

ROLES = ("perception", "decision", "action")

# group → heading, in the order groups are listed and drawn
GROUPS = {
    "perception": "perception agents",
    "decision": "decision agents",
    "action": "action agents",
    "agents": "agents",
    "data": "data",
    "negotiations": "negotiations",
    "events": "raised events",
    "constraints": "constraints",
    "bidders": "bidders",
    "other": "other",
}


EDGE_KINDS = ("reads", "read", "after", "negotiate", "manager", "party", "offer", "bid", "award", "raise",
              "activates", "constraint")
"""Declared kinds (reads, after, negotiate, manager, party, raise, activates, constraint) and observed
ones (read, offer, bid, award, raise, negotiate), in the order edges are listed."""


@dataclass(frozen=True)
class Node:
    """One box of the graph; `key` is unique across kinds (`agent:sourcing`, `table:catalog`)."""

    key: str
    name: str
    kind: str  # agent | table | negotiation | event | constraint | bidder | other
    group: str  # a key of GROUPS
    detail: str = ""


@dataclass
class Edge:
    """One arrow; `count` is set on observed edges, `both` draws a two-way arrow."""

    source: str
    target: str
    kind: str
    label: str
    count: int | None = None
    both: bool = False


@dataclass
class Graph:
    title: str
    mode: str  # declared | observed
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def link(self, source: str, target: str, kind: str, label: str, *, count: int | None = None,
             both: bool = False) -> None:
        self.edges.append(Edge(source, target, kind, label, count, both))

    def sort_edges(self) -> None:
        """Edges by their source's place, then kind, then target: a stable reading order."""
        place = {key: i for i, key in enumerate(self.nodes)}
        rank = {k: i for i, k in enumerate(EDGE_KINDS)}
        self.edges.sort(key=lambda e: (place[e.source], rank.get(e.kind, len(rank)), place[e.target]))


# -- declared ------------------------------------------------------------------------------


def declared_graph(plan: Plan, *, constraints: bool = True) -> Graph:
    """The graph a policy declares: reads, after, negotiations, raised events, constraints."""
    g = Graph(f"policy '{plan.policy}' {plan.version}", "declared")
    agents = {a.name: a for a in plan.agents}
    ordered = sorted(plan.agents, key=lambda a: (ROLES.index(a.role), a.span.line, a.span.column))
    for a in ordered:
        g.add(Node(f"agent:{a.name}", a.name, "agent", a.role, f"trust {a.trust:g}" if a.trust != 1.0 else ""))
    for t in plan.tables:
        g.add(Node(f"table:{t}", t, "table", "data"))
    for name, n in plan.negotiations.items():
        g.add(Node(f"negotiation:{name}", name, "negotiation", "negotiations", n.protocol))

    def key_of(name: str) -> str:
        if name in agents:
            return f"agent:{name}"
        if name in plan.negotiations:
            return f"negotiation:{name}"
        return f"table:{name}"

    for a in ordered:
        for r in a.reads:
            g.link(f"agent:{a.name}", key_of(r), "reads", "reads")
        for x in a.after:
            g.link(f"agent:{a.name}", f"agent:{x}", "after", "after")
        starts: dict[str, list[str]] = {}
        for rule in _rules(a):
            if rule.negotiate:
                starts.setdefault(rule.negotiate, []).append(rule.name)
        for neg, rules in starts.items():
            g.link(f"agent:{a.name}", f"negotiation:{neg}", "negotiate", f"negotiate ({', '.join(rules)})")
    for name, n in plan.negotiations.items():
        if n.protocol == "contract_net":
            bidders = n.bidders.source if n.bidders is not None else "?"
            g.link(f"agent:{n.manager}", f"negotiation:{name}", "manager", f"manager, bidders: {bidders}")
        else:
            for p in n.parties:
                g.link(f"agent:{p.agent}", f"negotiation:{name}", "party", f"party {p.name} ({p.strategy})",
                       both=True)
    _declared_raises(g, ordered)
    if constraints:
        _declared_constraints(g, plan, ordered)
    g.sort_edges()
    return g


def _rules(agent: Agent) -> list[Rule]:
    return list(agent.rules) + ([agent.otherwise] if agent.otherwise is not None else [])


def _declared_raises(g: Graph, agents: list[Agent]) -> None:
    """agent → raised event type → the agents whose `on` lists that type."""
    raised: list[str] = []
    for a in agents:
        types: list[str] = []
        for rule in _rules(a):
            for action in rule.actions:
                if action.kind == "raise" and action.type and action.type not in types:
                    types.append(action.type)
        for t in types:
            g.add(Node(f"event:{t}", t, "event", "events"))
            g.link(f"agent:{a.name}", f"event:{t}", "raise", "raise")
            if t not in raised:
                raised.append(t)
    for t in raised:
        for b in agents:
            if b.on is not None and t in b.on:
                g.link(f"event:{t}", f"agent:{b.name}", "activates", "on")


def _declared_constraints(g: Graph, plan: Plan, agents: list[Agent]) -> None:
    seen: dict[str, list[str]] = {}
    for a in agents:
        for c in a.constraints:
            seen.setdefault(c.name, [])
            g.add(Node(f"constraint:{c.name}", c.name, "constraint", "constraints", c.on_violation))
            seen[c.name].append(f"agent:{a.name}")
    for name, n in plan.negotiations.items():
        for c in n.constraints:
            seen.setdefault(c.name, [])
            g.add(Node(f"constraint:{c.name}", c.name, "constraint", "constraints", c.on_violation))
            seen[c.name].append(f"negotiation:{name}")
    for cname, targets in seen.items():
        verdict = g.nodes[f"constraint:{cname}"].detail
        for t in targets:
            g.link(f"constraint:{cname}", t, "constraint", verdict)


# -- observed ------------------------------------------------------------------------------


def observed_graph(con, run_id: str, title: str) -> Graph:
    """The edges a run used, with counts: reads, offers, bids, awards, raises, negotiations started."""
    g = Graph(title, "observed")
    roles = con.execute(
        "SELECT agent, any_value(role), min(rowid) AS first FROM decisions WHERE run_id = ? "
        "GROUP BY agent ORDER BY first, agent", [run_id]).fetchall()
    agent_names = {r[0] for r in roles}
    for name, role, _ in sorted(roles, key=lambda r: (ROLES.index(r[1]) if r[1] in ROLES else 9, r[2])):
        g.add(Node(f"agent:{name}", name, "agent", role if role in ROLES else "agents"))
    negs = dict(con.execute(
        "SELECT name, any_value(protocol) FROM negotiations WHERE run_id = ? GROUP BY name ORDER BY min(rowid)",
        [run_id]).fetchall())
    for name, protocol in negs.items():
        g.add(Node(f"negotiation:{name}", name, "negotiation", "negotiations", protocol or ""))

    def node_for(name: str, kind: str, end: str) -> str:
        if (kind == "bid" and end == "source") or (kind == "award" and end == "target"):
            # a bidder is a data row, never an agent, even when it bears an agent's name
            return g.add(Node(f"bidder:{name}", name, "bidder", "bidders"))
        if name in agent_names:
            return f"agent:{name}"
        if name in negs:
            return f"negotiation:{name}"
        if kind == "raise" and end == "target":
            return g.add(Node(f"event:{name}", name, "event", "events"))
        return g.add(Node(f"other:{name}", name, "other", "other"))

    rows = con.execute(
        "SELECT source_agent, target_agent, kind, count(*) FROM interactions WHERE run_id = ? "
        "GROUP BY ALL ORDER BY min(rowid)", [run_id]).fetchall()
    for source, target, kind, n in rows:
        s = node_for(str(source), kind, "source")
        t = node_for(str(target), kind, "target")
        g.link(s, t, kind, kind, count=n)
    started = con.execute(
        "SELECT d.agent, n.name, count(*) FROM negotiations n JOIN decisions d "
        "ON d.run_id = n.run_id AND d.decision_id = n.decision_id WHERE n.run_id = ? "
        "GROUP BY ALL ORDER BY min(n.rowid)", [run_id]).fetchall()
    for agent, neg, n in started:
        g.link(node_for(agent, "negotiate", "source"), f"negotiation:{neg}", "negotiate", "negotiate", count=n)
    g.sort_edges()
    return g


# -- rendering -----------------------------------------------------------------------------


def render(g: Graph, fmt: str) -> str:
    if fmt == "mermaid":
        return to_mermaid(g)
    if fmt == "dot":
        return to_dot(g)
    return to_text(g)


def _groups(g: Graph) -> list[tuple[str, list[Node]]]:
    out = []
    for group in GROUPS:
        members = [n for n in g.nodes.values() if n.group == group]
        if members:
            out.append((group, members))
    return out


def _edge_label(e: Edge) -> str:
    return e.label if e.count is None else f"{e.label} {e.count}"


def _line(text: str) -> str:
    """A name on one text line: line breaks and tabs written as escapes, so a bidder named so cannot break
    the layout."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def to_text(g: Graph) -> str:
    lines = [f"{g.mode} graph of {g.title}", "", "nodes"]
    groups = _groups(g)
    width = max((len(GROUPS[name]) for name, _ in groups), default=0)
    for name, members in groups:
        names = ", ".join(f"{_line(n.name)} ({_line(n.detail)})" if n.detail else _line(n.name) for n in members)
        lines.append(f"  {GROUPS[name]:<{width}}  {names}")
    lines += ["", "edges"]
    if not g.edges:
        lines.append("  (none)")
    src_w = max((len(_line(g.nodes[e.source].name)) for e in g.edges), default=0)
    lab_w = max((len(_edge_label(e)) for e in g.edges), default=0)
    for e in g.edges:
        arrow = "<->" if e.both else "-->"
        lines.append(f"  {_line(g.nodes[e.source].name):<{src_w}}  {_edge_label(e):<{lab_w}}  {arrow} "
                     f"{_line(g.nodes[e.target].name)}")
    return "\n".join(lines)


_MERMAID_SHAPES = {
    "agent": ('["', '"]'),
    "table": ('[("', '")]'),
    "negotiation": ('{{"', '"}}'),
    "event": ('(["', '"])'),
    "constraint": ('>"', '"]'),
    "bidder": ('(("', '"))'),
    "other": ('["', '"]'),
}


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: quotes and angle brackets as entity codes."""
    return (text.replace("#", "#35;").replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;").replace("\r", " ").replace("\n", " "))


def to_mermaid(g: Graph) -> str:
    """A Mermaid flowchart; node ids are generated (`n1`, `n2`) and names live in quoted labels,
    so any agent, bidder or event name is safe."""
    ids = {key: f"n{i}" for i, key in enumerate(g.nodes, 1)}
    lines = ["flowchart LR"]
    for i, (group, members) in enumerate(_groups(g), 1):
        lines.append(f'  subgraph g{i}["{_mermaid_text(GROUPS[group])}"]')
        for n in members:
            left, right = _MERMAID_SHAPES.get(n.kind, _MERMAID_SHAPES["other"])
            text = _mermaid_text(n.name) if not n.detail else f"{_mermaid_text(n.name)}<br/>{_mermaid_text(n.detail)}"
            lines.append(f"    {ids[n.key]}{left}{text}{right}")
        lines.append("  end")
    for e in g.edges:
        arrow = "<-->" if e.both else ("-.->" if e.kind in ("after", "activates") else "-->")
        lines.append(f'  {ids[e.source]} {arrow}|"{_mermaid_text(_edge_label(e))}"| {ids[e.target]}')
    return "\n".join(lines)


_DOT_SHAPES = {"agent": "box", "table": "cylinder", "negotiation": "hexagon", "event": "oval",
               "constraint": "note", "bidder": "ellipse", "other": "box"}


def dot_quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g: Graph) -> str:
    """A Graphviz digraph; every id is a quoted string (`"agent:sourcing"`), groups are clusters."""
    lines = [f"digraph {dot_quote(g.title)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];']
    for group, members in _groups(g):
        lines.append(f"  subgraph {dot_quote('cluster_' + group)} {{")
        lines.append(f"    label={dot_quote(GROUPS[group])};")
        for n in members:
            label = n.name if not n.detail else f"{n.name}\n{n.detail}"
            lines.append(f"    {dot_quote(n.key)} [label={dot_quote(label)}, shape={_DOT_SHAPES.get(n.kind, 'box')}];")
        lines.append("  }")
    for e in g.edges:
        attrs = [f"label={dot_quote(_edge_label(e))}"]
        if e.both:
            attrs.append("dir=both")
        if e.kind in ("after", "activates"):
            attrs.append("style=dashed")
        lines.append(f"  {dot_quote(e.source)} -> {dot_quote(e.target)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines)
