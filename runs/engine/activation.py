"""Activation state: which edges fired, which nodes are ready, done or skipped, and loop iterations.

DESIGN §6: a node runs when each incoming edge is activated or dead; a node whose incoming edges are
all dead is skipped and its outgoing edges die in turn; `if_else` fires one port; a `while` node's
`loop` port re-arms its body. The same code applies a live step and a step replayed from the log,
so a resumed run rebuilds exactly the state it had.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from runs.engine.store import StepRecord


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Activation:
    """Mixin for the engine session, which initialises these attributes and supplies `_queue_step`,
    `_event` and `_finished_data` (a skipped node is recorded as a step)."""

    g: Any
    edge_state: dict[str, bool]
    done: set[str]
    ready: Any
    ready_set: set[str]
    outputs: dict[str, Any]
    nodes_scope: dict[str, dict]
    activated_by: dict[str, str]
    loop_index: dict[str, int | None]
    waiting: dict[str, StepRecord]
    running_nodes: set[str]
    state: dict
    loops_of: dict[str, list[str]]
    replaying: bool
    counter: int

    def _make_ready(self, nid: str) -> None:
        self.done.add(nid)
        if nid not in self.ready_set:
            self.ready.append(nid)
            self.ready_set.add(nid)

    def _unready(self, nid: str) -> None:
        if nid in self.ready_set:
            self.ready_set.discard(nid)
            try:
                self.ready.remove(nid)
            except ValueError:
                pass

    def _apply(self, rec: StepRecord) -> None:
        """Apply a finished step's outcome: outputs, state, and which edges it activates."""
        nid = rec.node_id
        for key, value in (rec.state_updates or {}).items():
            self.state[key] = value
        if rec.status == "succeeded":
            port = rec.port or "out"
            output = rec.output
        else:  # failed and handled by on_error
            on_error = self.g.config(nid).get("on_error", "fail")
            port = "error" if on_error == "route" else "out"
            output = {"error": rec.error} if on_error == "route" else None
        self.outputs[nid] = output
        self.nodes_scope[nid] = {"output": output}
        self.waiting.pop(nid, None)
        self._fire(nid, port, rec.iteration)
        for w in self.loops_of.get(nid, ()):
            self._check(w)

    def _fire(self, nid: str, port: str, iteration: int = 0) -> None:
        targets: list[str] = []
        if nid in self.loop_index:
            if port == "loop":
                self._reset_body(nid, iteration)
                for e in self.g.outgoing[nid]:
                    if e.port == "loop":
                        self._set_edge(e, True, targets)
            else:
                self.loop_index[nid] = None
                for e in self.g.outgoing[nid]:
                    if e.port != "loop":
                        self._set_edge(e, e.port == port, targets)
                body = self.g.body[nid]
                for n in body:
                    for e in self.g.outgoing[n]:
                        if e.target not in body and e.target != nid and e.id not in self.edge_state:
                            self._set_edge(e, False, targets)
        else:
            for e in self.g.outgoing[nid]:
                self._set_edge(e, e.port == port, targets)
        self._propagate(targets)

    def _set_edge(self, e, active: bool, targets: list[str]) -> None:
        self.edge_state[e.id] = active
        if active:
            self.activated_by[e.target] = e.source
        targets.append(e.target)

    def _reset_body(self, w: str, iteration: int) -> None:
        self.loop_index[w] = iteration
        self.done.discard(w)
        body = self.g.body[w]
        for n in body:
            self.done.discard(n)
            if n in self.loop_index:
                self.loop_index[n] = None
            for e in self.g.incoming[n]:
                self.edge_state.pop(e.id, None)
        for e in self.g.back_edges[w]:
            self.edge_state.pop(e.id, None)

    def _propagate(self, targets: list[str]) -> None:
        stack = list(reversed(targets))
        while stack:
            nid = stack.pop()
            skipped = self._check(nid)
            if skipped:
                more = []
                for e in self.g.outgoing[nid]:
                    self._set_edge(e, False, more)
                stack.extend(reversed(more))

    def _check(self, nid: str) -> bool:
        """Make `nid` ready when all its incoming edges are decided; returns True if it was skipped."""
        if nid in self.done:
            return False
        if nid in self.loop_index:
            entered = self.loop_index[nid] is not None
            edges = self.g.back_edges[nid] if entered else self.g.entry_edges[nid]
            if any(e.id not in self.edge_state for e in edges):
                return False
            body = self.g.body[nid]
            if entered and (body & self.running_nodes or body & self.ready_set or body & set(self.waiting)):
                return False
            if entered or any(self.edge_state[e.id] for e in edges):
                self._make_ready(nid)
                return False
        else:
            edges = self.g.incoming[nid]
            if any(e.id not in self.edge_state for e in edges):
                return False
            if any(self.edge_state[e.id] for e in edges):
                self._make_ready(nid)
                return False
        self.done.add(nid)
        if not self.replaying:
            node = self.g.nodes[nid]
            rec = StepRecord(
                id=str(uuid.uuid4()),
                node_id=nid,
                node_type=node.get("type", ""),
                iteration=self._iteration_of(nid),
                status="skipped",
                started_at=now(),
                finished_at=now(),
                duration_ms=0,
            )
            self.counter += 1
            rec.order = self.counter
            self._queue_step(rec)
            self._event("step.finished", nid, self._finished_data(rec))
        return True

    def _iteration_of(self, nid: str) -> int:
        if nid in self.loop_index:
            current = self.loop_index[nid]
            return 0 if current is None else current + 1
        w = self.g.innermost_loop.get(nid)
        return (self.loop_index.get(w) or 0) if w else 0
