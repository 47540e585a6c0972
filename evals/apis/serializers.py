"""Serializers that document the evals API's bodies in the OpenAPI document. The views take their bodies as
JSON objects and the services check them (evals/services, evals/graders.py); the selectors build the answers.
These say what both hold, and refuse nothing themselves."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from evals.graders import GRADER_TYPES, MAX_GRADERS
from evals.models import EvalStatus, ResultStatus
from evals.services.datasets import MAX_NAME, MAX_TAGS
from evals.services.feedback import MAX_COMMENT
from trellis.openapi import ClosedSerializer, documented, or_empty

# A version number as the views take it (a PostgreSQL integer).
MAX_VERSION = 2**31 - 1


TAGS = or_empty({"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": MAX_TAGS})


class OpenSerializer(serializers.Serializer):
    """An object whose documented fields are the common ones: the others depend on a kind (a grader's type)."""


class OpenSerializerSchema(OpenApiSerializerExtension):
    """...documented with `additionalProperties: {}`, so that the generated types keep the other fields."""

    target_class = OpenSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": {}}


class GraderOut(OpenSerializer):
    type = serializers.CharField(help_text=", ".join(GRADER_TYPES))
    name = serializers.CharField(help_text="unique in the dataset; the key of the grader's score")
    # The other fields depend on the type (the dataset editor's grader forms; evals/graders.py checks them).


class FeedbackOut(serializers.Serializer):
    id = serializers.CharField(help_text='a UUID, or "approval:<step id>" for a user_approval decision')
    run_id = serializers.UUIDField()
    step_id = serializers.UUIDField(allow_null=True, help_text="the step judged; null: the run's output")
    score = serializers.ChoiceField([1, -1], help_text="1 thumbs up (approved), -1 thumbs down (rejected)")
    comment = serializers.CharField()
    source = serializers.ChoiceField(["user", "approval"])
    by = serializers.CharField(allow_null=True, help_text="who gave it (an email), when known")
    created_at = serializers.DateTimeField(allow_null=True)


class DatasetOut(serializers.Serializer):
    id = serializers.UUIDField()
    workflow = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    graders = GraderOut(many=True)
    items = serializers.IntegerField(help_text="how many items it holds")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DatasetItemOut(serializers.Serializer):
    id = serializers.UUIDField()
    input = serializers.DictField(help_text="the run input")
    expected = serializers.JSONField(allow_null=True, help_text="what the graders compare the output with")
    tags = serializers.ListField(child=serializers.CharField())
    source_run = serializers.UUIDField(allow_null=True, help_text="the run it was taken from")
    revision = serializers.IntegerField(help_text="goes up with every edit")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ImportedOut(serializers.Serializer):
    imported = serializers.IntegerField()


class AddedOut(serializers.Serializer):
    added = serializers.IntegerField()


class GradeOut(serializers.Serializer):
    score = serializers.FloatField()
    passed = serializers.BooleanField()
    error = serializers.CharField(required=False, help_text="why the grader could not score the output")
    cost_usd = serializers.FloatField(required=False, help_text="model graders: the judge's calls, when priced")


class EvalSummaryOut(serializers.Serializer):
    items = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    errored = serializers.IntegerField(help_text="items whose run did not succeed (cancelled ones aside)")
    cancelled = serializers.IntegerField(required=False, help_text="items a cancellation stopped")
    pass_rate = serializers.FloatField(help_text="0 to 1")
    mean_scores = serializers.DictField(child=serializers.FloatField(), help_text="grader name → mean score")
    cost_usd = serializers.FloatField(help_text="the item runs' cost")
    grading_cost_usd = serializers.FloatField(required=False, help_text="the judge models' calls")
    p50_ms = serializers.IntegerField(allow_null=True, help_text="median run latency")


class EvalProgressOut(serializers.Serializer):
    done = serializers.IntegerField()
    items = serializers.IntegerField()


class EvalResultOut(serializers.Serializer):
    position = serializers.IntegerField()
    item_id = serializers.UUIDField(allow_null=True, help_text="null once the dataset item is gone")
    item_revision = serializers.IntegerField(help_text="the revision of the item the eval used")
    input = serializers.DictField()
    expected = serializers.JSONField(allow_null=True)
    run_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(ResultStatus.choices)
    run_status = serializers.CharField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    scores = serializers.DictField(child=GradeOut(), help_text="grader name → its grade")
    passed = serializers.BooleanField(allow_null=True, help_text="null until graded")
    cost_usd = serializers.FloatField()
    latency_ms = serializers.IntegerField(allow_null=True)


class EvalOut(serializers.Serializer):
    id = serializers.UUIDField()
    workflow = serializers.UUIDField()
    dataset = serializers.UUIDField()
    dataset_name = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="the version evaluated; null: the draft")
    is_draft = serializers.BooleanField()
    checksum = serializers.CharField(help_text="sha256 of the graph evaluated")
    graders = GraderOut(many=True)
    status = serializers.ChoiceField(EvalStatus.choices)
    purpose = serializers.ChoiceField(["manual", "gate"])
    summary = EvalSummaryOut(allow_null=True, help_text="null while it runs")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    progress = EvalProgressOut(required=False, help_text="detail only")
    items = EvalResultOut(many=True, required=False, help_text="detail only: one per dataset item")


class EvalStartedOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="as an eval's status (running until its items are done)")


class GraderCheckOut(serializers.Serializer):
    valid = serializers.BooleanField(help_text="always true (an invalid grader is a 400 invalid_grader)")
    grader = GraderOut(help_text="the grader as it would be saved")


class CompareSideOut(serializers.Serializer):
    passed = serializers.BooleanField(allow_null=True)
    scores = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="grader name → score")
    output = serializers.JSONField(allow_null=True)
    error = serializers.JSONField(allow_null=True)
    cost_usd = serializers.FloatField()
    latency_ms = serializers.IntegerField(allow_null=True)
    run_id = serializers.UUIDField(allow_null=True)


class CompareItemOut(serializers.Serializer):
    item_id = serializers.UUIDField(allow_null=True)
    input = serializers.DictField()
    expected = serializers.JSONField(allow_null=True)
    a = CompareSideOut(allow_null=True, help_text="null: the item is only in b")
    b = CompareSideOut(allow_null=True, help_text="null: the item is only in a")
    change = serializers.ChoiceField(["regression", "improvement", "only_a", "only_b", "same"])


class CompareDeltaOut(serializers.Serializer):
    pass_rate = serializers.FloatField(help_text="b's minus a's")
    cost_usd = serializers.FloatField()
    p50_ms = serializers.IntegerField(allow_null=True)


class EvalCompareOut(serializers.Serializer):
    a = EvalOut()
    b = EvalOut()
    regressions = serializers.IntegerField(help_text="items a passed and b failed")
    improvements = serializers.IntegerField(help_text="items a failed and b passed")
    delta = CompareDeltaOut()
    items = CompareItemOut(many=True)


# The publish gate is answered as an object or JSON null, which a serializer cannot say: a schema of its own.
PUBLISH_GATE_OR_NULL = {
    "type": "object",
    "nullable": True,
    "properties": {
        "dataset": {"type": "string", "format": "uuid"},
        "dataset_name": {"type": "string"},
        "min_pass_rate": {"type": "number", "format": "double", "description": "0 to 1"},
    },
    "required": ["dataset", "dataset_name", "min_pass_rate"],
}


class FinetuneExportOut(serializers.Serializer):
    id = serializers.UUIDField()
    workflow = serializers.UUIDField()
    node_id = serializers.CharField()
    method = serializers.ChoiceField(["supervised", "dpo", "reinforcement"])
    filters = serializers.DictField()
    examples = serializers.IntegerField()
    tokens = serializers.IntegerField()
    estimated_cost = serializers.FloatField()
    warnings = serializers.ListField(child=serializers.CharField())
    grader = serializers.DictField(allow_null=True, help_text="reinforcement: the grader the job uses")
    download_url = serializers.CharField()
    created_at = serializers.DateTimeField()


class FinetuneEventOut(serializers.Serializer):
    created_at = serializers.IntegerField(help_text="Unix seconds")
    level = serializers.CharField()
    message = serializers.CharField()


class FinetuneErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class FinetuneJobOut(serializers.Serializer):
    id = serializers.UUIDField()
    export = serializers.UUIDField()
    provider = serializers.IntegerField()
    provider_name = serializers.CharField()
    base_model = serializers.CharField()
    hyperparameters = serializers.DictField()
    remote_id = serializers.CharField(help_text="the provider's job id; empty until it is created there")
    status = serializers.CharField(help_text="the provider's status: queued, running, succeeded, failed, cancelled…")
    fine_tuned_model = serializers.CharField(allow_null=True)
    events = FinetuneEventOut(many=True, help_text="the provider's latest events, oldest first")
    error = FinetuneErrorOut(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TriedModelOut(serializers.Serializer):
    id = serializers.UUIDField(help_text="the workflow whose draft now uses the model")
    name = serializers.CharField()
    revision = serializers.IntegerField(help_text="its draft revision")


# --- request bodies ---------------------------------------------------------------------------------------


class GraderIn(OpenSerializer):
    type = serializers.RegexField(rf"^({'|'.join(GRADER_TYPES)})$", help_text=", ".join(GRADER_TYPES))
    name = serializers.CharField(max_length=100, help_text="unique in the dataset")
    # The other fields depend on the type (evals/graders.py: grader_check says what is wrong).


class FeedbackIn(serializers.Serializer):
    score = serializers.ChoiceField([1, -1])
    comment = documented(or_empty({"type": "string", "maxLength": MAX_COMMENT}), required=False)
    step_id = documented(
        {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "string", "enum": [""]}], "nullable": True},
        required=False,
        help_text="a step of this run; empty or null: the run's output",
    )


class AddToDatasetIn(serializers.Serializer):
    dataset = serializers.UUIDField(help_text="a dataset of the run's workflow")
    expected = serializers.JSONField(required=False, allow_null=True, help_text="default: the run's output")


class DatasetIn(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME)
    description = serializers.JSONField(required=False, help_text="text (another value is kept as its text)")
    graders = GraderIn(many=True, required=False, allow_null=True, help_text=f"at most {MAX_GRADERS}")


class DatasetPatchIn(ClosedSerializer):
    name = serializers.CharField(required=False, max_length=MAX_NAME)
    description = serializers.JSONField(required=False, help_text="text (another value is kept as its text)")
    graders = GraderIn(many=True, required=False, help_text=f"at most {MAX_GRADERS}")


class ItemIn(ClosedSerializer):
    input = serializers.DictField(help_text="the run input")
    expected = serializers.JSONField(required=False, allow_null=True)
    tags = documented(TAGS, required=False, help_text=f"at most {MAX_TAGS} non-empty strings")
    source_run = serializers.JSONField(required=False, allow_null=True, help_text="ignored")


class ItemsIn(serializers.Serializer):
    items = ItemIn(many=True, help_text="all of them or none")


class ItemPatchIn(ClosedSerializer):
    input = serializers.DictField(required=False)
    expected = serializers.JSONField(required=False, allow_null=True)
    tags = documented(TAGS, required=False, help_text=f"at most {MAX_TAGS} non-empty strings")


class RunFilterIn(serializers.Serializer):
    status = serializers.JSONField(required=False, help_text="comma-separated run statuses; default succeeded")
    version = documented(
        {
            "anyOf": [
                {"type": "string", "enum": ["draft", ""]},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "string", "pattern": r"^\s*[+-]?[0-9]+\s*$"},
            ],
            "nullable": True,
        },
        required=False,
        help_text='"draft" or a version number; empty: any',
    )
    feedback = documented(
        {"type": "string", "enum": ["up", "down", "any", "none", ""], "nullable": True}, required=False
    )
    limit = documented(
        or_empty(
            {"anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string", "pattern": r"^\s*[+-]?[0-9]+\s*$"}]}
        ),
        required=False,
        help_text="at most this many runs (1 to 10000), newest first; default 1000",
    )


class FromRunsIn(RunFilterIn):
    filter = documented(
        or_empty({"type": "object", "additionalProperties": {}}),
        required=False,
        help_text="the filter, with the fields above; empty: the body's own fields are the filter",
    )


VERSION_ARG = {
    "anyOf": [
        {"type": "string", "enum": ["draft", "published", ""]},
        {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
        {"type": "string", "pattern": "^[1-9][0-9]{0,8}$"},
    ],
    "nullable": True,
}


class EvalStartIn(serializers.Serializer):
    dataset = serializers.UUIDField(help_text="a dataset of this workflow, with items")
    version = documented(VERSION_ARG, required=False, help_text='a version number, "published", or "draft" (default)')
    graders = GraderIn(many=True, required=False, allow_null=True, help_text="default: the dataset's")


class GraderCheckIn(serializers.Serializer):
    grader = GraderIn()


# PUT …/publish-gate takes {dataset, min_pass_rate}, or null (or a null dataset) to remove the gate.
PUBLISH_GATE_IN = {
    "type": "object",
    "nullable": True,
    "properties": {
        "dataset": {"type": "string", "format": "uuid", "nullable": True, "description": "null: no gate"},
        # Read only with a dataset (then a number from 0 to 1); removing the gate ignores it.
        "min_pass_rate": {"description": "a number from 0 to 1: the pass rate an eval must reach"},
    },
}


class FinetuneExportIn(serializers.Serializer):
    node_id = serializers.CharField(help_text="an agent node of the draft")
    method = serializers.ChoiceField(["supervised", "dpo", "reinforcement"])
    filters = documented(
        or_empty({"type": "object", "additionalProperties": {}}),
        required=False,
        help_text="which runs' steps to export",
    )
    grader = serializers.JSONField(
        required=False, help_text="reinforcement: the grader the job uses (a grader object); other methods ignore it"
    )
    base_model = documented(or_empty({"type": "string"}), required=False)


class FinetuneJobIn(serializers.Serializer):
    export = serializers.UUIDField()
    provider = serializers.IntegerField(help_text="a model provider of the workspace")
    base_model = serializers.CharField()
    hyperparameters = documented(
        or_empty(
            {
                "type": "object",
                "properties": {name: {} for name in ("n_epochs", "batch_size", "learning_rate_multiplier", "beta")},
                "additionalProperties": False,
            }
        ),
        required=False,
    )


class TryModelIn(serializers.Serializer):
    node_id = serializers.JSONField(help_text="an agent node of the draft (its id)")
    model = serializers.JSONField(help_text="the model's name (another value is taken as its text)")
    provider = serializers.IntegerField(help_text="a model provider of the workspace")
    copy = serializers.JSONField(required=False, help_text="true (any true value): in a duplicate of the workflow")
