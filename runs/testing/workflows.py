"""Workflows for tests and benches, saved straight to the database (import after Django is set up)."""

from builder.models import Workflow, WorkflowVersion
from builder.services.graph import graph_checksum


def saved_workflow(
    *, workspace, by, graph: dict, name: str = "Flow", published: bool = True, draft_graph: dict | None = None
) -> Workflow:
    """A workflow whose draft is `draft_graph` (else `graph`) and, when `published`, whose published version 1 is
    `graph`: saved as given, without the validation of workflow_publish (tests build graphs it would refuse)."""
    workflow = Workflow.objects.create(workspace=workspace, name=name, draft_graph=draft_graph or graph, created_by=by)
    if published:
        version = WorkflowVersion.objects.create(
            workflow=workflow, number=1, graph=graph, checksum=graph_checksum(graph), created_by=by
        )
        workflow.published_version = version
        workflow.save(update_fields=["published_version"])
    return workflow
