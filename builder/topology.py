"""Graph algorithms over a workflow's nodes and edges, shared by validation and the engine so that both
mean the same thing by "reachable", "loop body", "upstream" and "cycle". Pure: no Django, no catalog.

An edge is a (source, port, target) triple; `successors` indexes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

Triple = tuple[str, str, str]  # (source, port, target)
LOOP_PORT = "loop"


def successors(edges: Iterable[Triple]) -> dict[str, list[tuple[str, str]]]:
    """node id -> [(port, target)] in edge order."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for source, port, target in edges:
        out[source].append((port, target))
    return out


def reachable(roots: Iterable[str], succ: dict[str, list[tuple[str, str]]], *, avoid: str | None = None) -> set[str]:
    """Every node reachable from `roots` (roots included), never passing through `avoid`."""
    seen: set[str] = set()
    stack = [r for r in roots if r != avoid]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(t for _, t in succ.get(current, ()) if t != avoid and t not in seen)
    return seen


def loop_body(while_id: str, succ: dict[str, list[tuple[str, str]]]) -> frozenset[str]:
    """The nodes a while loop's `loop` port reaches without passing through the while node itself: each runs
    once per iteration and sees `loop`. That includes nodes that never lead back (an End inside the loop)."""
    entries = [t for port, t in succ.get(while_id, ()) if port == LOOP_PORT]
    return frozenset(reachable(entries, succ, avoid=while_id))


def loop_bodies(while_ids: Iterable[str], succ: dict[str, list[tuple[str, str]]]) -> dict[str, frozenset[str]]:
    return {w: loop_body(w, succ) for w in while_ids}


def strongly_connected(node_ids: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's SCCs, iteratively; components come out in reverse topological order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in node_ids:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            current, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[current] = min(low[current], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                components.append(component)
    return components


def cycles(node_ids: list[str], edges: Iterable[Triple], *, allowed: set[str]) -> list[list[str]]:
    """The cycles left once the `loop` edges of the `allowed` (while) nodes are taken out: each as its members
    in `node_ids` order, the cycles ordered by their first member. Empty when every cycle is a loop."""
    succ: dict[str, list[str]] = defaultdict(list)
    for source, port, target in edges:
        if not (source in allowed and port == LOOP_PORT):
            succ[source].append(target)
    order = {node_id: i for i, node_id in enumerate(node_ids)}
    found = []
    for members in strongly_connected(node_ids, succ):
        if len(members) == 1 and members[0] not in succ.get(members[0], ()):
            continue
        found.append(sorted(members, key=order.get))
    return sorted(found, key=lambda c: order[c[0]])


def upstream_masks(node_ids: list[str], edges: Iterable[Triple]) -> tuple[dict[str, int], dict[str, int]]:
    """(node id -> bit, node id -> bit mask of every node with a path to it). A node on a cycle (a loop body)
    is its own ancestor. Bit sets over the condensation in topological order: one pass, fast on large graphs."""
    known = set(node_ids)
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    for source, _, target in edges:
        if source in known and target in known:
            succ[source].append(target)
            pred[target].append(source)
    components = strongly_connected(node_ids, succ)
    bit = {node_id: 1 << i for i, node_id in enumerate(node_ids)}
    comp_of = {member: c for c, members in enumerate(components) for member in members}
    ancestors = [0] * len(components)
    for c in range(len(components) - 1, -1, -1):
        members = components[c]
        mask = 0
        for member in members:
            for parent in pred.get(member, ()):
                pc = comp_of.get(parent)
                if pc is not None and pc != c:
                    mask |= ancestors[pc] | bit[parent]
        if len(members) > 1 or any(m in succ.get(m, ()) for m in members):
            for member in members:
                mask |= bit[member]
        ancestors[c] = mask
    return bit, {node_id: ancestors[comp_of[node_id]] for node_id in node_ids}


def upstream_sets(node_ids: list[str], edges: Iterable[Triple]) -> dict[str, set[str]]:
    """node id -> ids of every node with a path to it (upstream_masks in readable form)."""
    bit, masks = upstream_masks(node_ids, edges)
    return {node_id: {other for other, b in bit.items() if mask & b} for node_id, mask in masks.items()}
