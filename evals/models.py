"""The data flywheel (DESIGN §10): feedback on runs, datasets of items, evals with their graded results,
a workflow's publish gate, fine-tuning exports and jobs."""

import uuid

from django.conf import settings
from django.db import models


class Feedback(models.Model):
    """A thumbs up (1) or down (-1) on a run's output or on one of its steps; approvals count too."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="feedback")
    step = models.ForeignKey("runs.Step", on_delete=models.CASCADE, null=True, blank=True, related_name="feedback")
    score = models.SmallIntegerField()  # 1 or -1
    comment = models.TextField(blank=True, default="")
    source = models.CharField(max_length=20, default="user")  # user | approval
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["run", "-created_at"], name="feedback_run_created")]


class Dataset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("builder.Workflow", on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # The graders an eval of this dataset uses unless it names its own (and the publish gate's).
    graders = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "name"], name="unique_dataset_name")]


class DatasetItem(models.Model):
    """One test case. Edits bump `revision`; deletion is soft, so an eval's record of the items it used
    (id + revision, with a copy of input and expected) stays meaningful."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="items")
    input = models.JSONField()
    expected = models.JSONField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    source_run = models.ForeignKey("runs.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revision = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["dataset", "created_at"], name="dataset_item_order")]


class EvalStatus(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Eval(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("builder.Workflow", on_delete=models.CASCADE, related_name="evals")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="evals")
    version = models.ForeignKey("builder.WorkflowVersion", on_delete=models.SET_NULL, null=True, related_name="+")
    is_draft = models.BooleanField(default=False)
    # sha256 of the graph evaluated: the publish gate reuses a recent eval of the same draft.
    checksum = models.CharField(max_length=64)
    graph = models.JSONField(null=True, blank=True)  # an eval of the draft runs this snapshot of it
    graders = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=EvalStatus.choices, default=EvalStatus.RUNNING)
    summary = models.JSONField(default=dict, blank=True)
    concurrency = models.PositiveIntegerField(default=4)
    purpose = models.CharField(max_length=10, default="manual")  # manual | gate
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workflow", "-created_at"], name="eval_workflow_created")]


class ResultStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    GRADING = "grading"
    DONE = "done"


class EvalResult(models.Model):
    """One dataset item in one eval: the copy of the item it used, its run, scores, pass/fail, cost, latency."""

    eval = models.ForeignKey(Eval, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    item = models.ForeignKey(DatasetItem, on_delete=models.SET_NULL, null=True, related_name="+")
    item_revision = models.PositiveIntegerField()
    input = models.JSONField()
    expected = models.JSONField(null=True, blank=True)
    run = models.ForeignKey("runs.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=ResultStatus.choices, default=ResultStatus.PENDING)
    run_status = models.CharField(max_length=10, blank=True, default="")
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    scores = models.JSONField(default=dict, blank=True)  # {grader name: {score, passed, error?}}
    passed = models.BooleanField(null=True)
    cost_usd = models.FloatField(default=0.0)
    latency_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["eval", "position"], name="unique_eval_position")]
        indexes = [models.Index(fields=["eval", "status"], name="eval_result_status")]


class PublishGate(models.Model):
    workflow = models.OneToOneField("builder.Workflow", on_delete=models.CASCADE, primary_key=True, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    min_pass_rate = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)


class FinetuneExport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey("builder.Workflow", on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=64)
    method = models.CharField(max_length=20)  # supervised | dpo | reinforcement
    filters = models.JSONField(default=dict, blank=True)
    content = models.TextField()  # the JSONL, masked
    examples = models.PositiveIntegerField()
    tokens = models.PositiveIntegerField()
    estimated_cost = models.FloatField()
    warnings = models.JSONField(default=list, blank=True)
    grader = models.JSONField(null=True, blank=True)  # reinforcement: the grader the job uses
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class FinetuneJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    export = models.ForeignKey(FinetuneExport, on_delete=models.CASCADE, related_name="jobs")
    # Deleting the workflow or the provider takes the job records with it (a PROTECT would turn those
    # deletions into errors); the provider keeps any fine-tuned model on its side.
    provider = models.ForeignKey("accounts.ModelProvider", on_delete=models.CASCADE, related_name="+")
    base_model = models.CharField(max_length=200)
    hyperparameters = models.JSONField(default=dict, blank=True)
    remote_id = models.CharField(max_length=200, blank=True, default="")
    file_id = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=30, default="queued")
    fine_tuned_model = models.CharField(max_length=300, blank=True, default="")
    events = models.JSONField(default=list, blank=True)
    error = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def is_terminal(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")
