"""The small interface the engine needs from storage, and the records that cross it.

The engine never imports models: runs/persistence/engine.py implements this interface on the Django models, and
tests may implement it in memory. Every `commit` is one transaction holding finished steps, their
events and the run's new state, guarded by the run's lease.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


class LeaseLost(Exception):
    """Another worker owns the run now (our lease expired); stop without writing anything more."""


@dataclass
class StepRecord:
    id: str
    node_id: str
    node_type: str
    attempt: int = 1
    iteration: int = 0
    status: str = "running"
    input: Any = None
    output: Any = None
    error: dict | None = None
    port: str | None = None
    state_updates: dict = field(default_factory=dict)
    wait: dict | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    duration_ms: int | None = None
    usage: dict | None = None
    order: int | None = None
    persisted: bool = False  # a row exists already (the commit updates it instead of inserting)


@dataclass
class RunSnapshot:
    id: str
    workspace_id: str
    status: str
    graph: dict
    input: Any
    trigger: dict
    created_at: dt.datetime
    started_at: dt.datetime | None
    timings: dict
    usage: dict
    cancel_requested: bool
    step_counter: int
    steps: list[StepRecord]  # every step of the run, finished ones in `order`
    # Leases of this run that expired in a row (counted by `acquire`) with no step committed since.
    recoveries: int = 0


@dataclass
class Event:
    type: str
    node_id: str | None = None
    data: dict = field(default_factory=dict)
    ts: dt.datetime | None = None


@dataclass
class Commit:
    steps: list[StepRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    run: dict = field(default_factory=dict)  # run fields to set: status, output, error, started_at, …
    step_counter: int | None = None
    release: bool = False  # give the lease up (the run is finished or waiting)
    # Push the lease's expiry forward. Not on every step: the expiry column is indexed, and leaving
    # it alone lets PostgreSQL update the run row in place (HOT).
    extend_lease: bool = True


@dataclass
class CommitResult:
    cancel_requested: bool = False
    # The run was about to wait but an approval was decided meanwhile: advance it again.
    resumed: bool = False


class Store(Protocol):
    def acquire(self, run_id: str, owner: str, lease_s: float) -> RunSnapshot | None:
        """Take the run's lease if it is free or expired and the run can advance; else None. Taking over an
        expired lease counts one more recovery (`RunSnapshot.recoveries`); a commit with `run["recoveries"] = 0`
        resets the count."""

    def commit(self, run_id: str, owner: str, lease_s: float, commit: Commit) -> CommitResult:
        """Write `commit` in one transaction. Raises LeaseLost."""

    def heartbeat(self, run_id: str, owner: str, lease_s: float) -> bool:
        """Extend the lease; returns cancel_requested. Raises LeaseLost."""

    def heartbeat_many(
        self, leases: list[tuple[str, str]], lease_s: float, extend: set[str]
    ) -> tuple[set[str], set[str]]:
        """Check the leases of (run id, owner) pairs, and extend those of the runs in `extend`: returns (runs
        with a cancel request, runs whose lease is lost)."""

    def release(self, run_id: str, owner: str) -> None:
        """Give the lease up without other changes (e.g. after an unexpected error)."""

    def resolve_secret(self, workspace_id: str, name: str) -> str: ...

    def broadcast_delta(self, run_id: str, node_id: str, data: dict) -> None:
        """Send a streamed-text event to live listeners only (never stored)."""
