"""A `trellis.graph/1` graph indexed for execution: edges by node, while-loop bodies and back edges."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from builder import topology


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    port: str


class Graph:
    def __init__(self, graph: dict):
        # Notes never run and never connect; anything unknown to the engine is left to validation.
        self.nodes: dict[str, dict] = {n["id"]: n for n in graph.get("nodes", []) if n.get("type") != "note"}
        self.edges: list[Edge] = []
        for i, e in enumerate(graph.get("edges", [])):
            if e.get("source") in self.nodes and e.get("target") in self.nodes:
                self.edges.append(Edge(e.get("id") or f"e{i}", e["source"], e["target"], e.get("source_port") or "out"))
        self.outgoing: dict[str, list[Edge]] = {nid: [] for nid in self.nodes}
        self.incoming: dict[str, list[Edge]] = {nid: [] for nid in self.nodes}
        for e in self.edges:
            self.outgoing[e.source].append(e)
            self.incoming[e.target].append(e)
        self.whiles = [nid for nid, n in self.nodes.items() if n.get("type") == "while"]
        succ = topology.successors((e.source, e.port, e.target) for e in self.edges)
        self.body: dict[str, frozenset[str]] = topology.loop_bodies(self.whiles, succ)
        self.back_edges: dict[str, list[Edge]] = {
            w: [e for e in self.incoming[w] if e.source in self.body[w]] for w in self.whiles
        }
        self.entry_edges: dict[str, list[Edge]] = {
            w: [e for e in self.incoming[w] if e.source not in self.body[w]] for w in self.whiles
        }

    @cached_property
    def innermost_loop(self) -> dict[str, str]:
        """node id -> the while node whose (smallest) body contains it."""
        out: dict[str, str] = {}
        for w in sorted(self.whiles, key=lambda w: -len(self.body[w])):
            for n in self.body[w]:
                out[n] = w  # smaller bodies overwrite larger ones: the innermost loop wins
        return out

    def starts(self) -> list[str]:
        return [nid for nid, n in self.nodes.items() if n.get("type") == "start"]

    def config(self, node_id: str) -> dict:
        return self.nodes[node_id].get("config") or {}
