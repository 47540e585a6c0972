"""What bounds a run (`Limits`: steps, duration, loop iterations, payload size, lease, batching, threads)
and the exception that ends one (`RunFailure`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    max_steps: int = 1000
    max_duration_s: float = 3600
    max_loop_iterations: int = 100
    max_payload_bytes: int = 1024 * 1024
    lease_s: float = 30
    # Lease expiries in a row without a step committing after which the run fails (crashed_repeatedly).
    max_recoveries: int = 3
    # Finished built-in steps are grouped into one transaction for up to this long (0: one per step).
    commit_batch_ms: float = 0
    pool_size: int = 8
    delta_interval_s: float = 0.05
    heartbeat_s: float | None = None  # default: a third of the lease, at most 1 s (also polls for cancel)
    # Runs advanced at once by this process, in all and per workspace (runs/engine/admission.py).
    max_active: int = 2000
    max_active_per_workspace: int = 1000

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(
            max_steps=settings.RUN_MAX_STEPS,
            max_duration_s=settings.RUN_MAX_DURATION_S,
            max_loop_iterations=settings.RUN_MAX_LOOP_ITERATIONS,
            max_payload_bytes=settings.STEP_MAX_PAYLOAD_BYTES,
            lease_s=settings.RUN_LEASE_S,
            max_recoveries=settings.RUN_MAX_RECOVERIES,
            commit_batch_ms=settings.RUN_COMMIT_BATCH_MS,
            pool_size=settings.RUN_NODE_THREADS,
            max_active=settings.RUN_MAX_ACTIVE,
            max_active_per_workspace=settings.RUN_MAX_ACTIVE_PER_WORKSPACE,
        )


class RunFailure(Exception):
    """Ends the run: a limit was breached or a node failed with on_error=fail."""

    def __init__(self, status: str, code: str, message: str, node_id: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.node_id = status, code, message, node_id
