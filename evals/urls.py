"""REST routes of the data flywheel, mounted under /api/v1/."""

from django.urls import path

from evals import apis

W = "workflows/<uuid:workflow_id>"
D = W + "/datasets/<uuid:dataset_id>"

urlpatterns = [
    path("runs/<uuid:run_id>/feedback", apis.RunFeedbackApi.as_view(), name="run-feedback"),
    path("runs/<uuid:run_id>/add-to-dataset", apis.RunAddToDatasetApi.as_view(), name="run-add-to-dataset"),
    path(W + "/datasets", apis.DatasetListApi.as_view(), name="dataset-list"),
    path(D, apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path(D + "/items", apis.DatasetItemsApi.as_view(), name="dataset-items"),
    path(D + "/items/import", apis.DatasetImportApi.as_view(), name="dataset-import"),
    path(D + "/items/export", apis.DatasetExportApi.as_view(), name="dataset-export"),
    path(D + "/items/from-runs", apis.DatasetFromRunsApi.as_view(), name="dataset-from-runs"),
    path(D + "/items/<uuid:item_id>", apis.DatasetItemDetailApi.as_view(), name="dataset-item"),
    path(W + "/evals", apis.EvalListApi.as_view(), name="eval-list"),
    path(W + "/evals/<uuid:eval_id>", apis.EvalDetailApi.as_view(), name="eval-detail"),
    path(W + "/evals/<uuid:eval_id>/cancel", apis.EvalCancelApi.as_view(), name="eval-cancel"),
    path(W + "/evals/<uuid:eval_id>/compare/<uuid:other_id>", apis.EvalCompareApi.as_view(), name="eval-compare"),
    path(W + "/graders/check", apis.GraderCheckApi.as_view(), name="grader-check"),
    path(W + "/publish-gate", apis.PublishGateApi.as_view(), name="publish-gate"),
    path(W + "/finetune-exports", apis.FinetuneExportListApi.as_view(), name="finetune-export-list"),
    path(W + "/try-model", apis.TryModelApi.as_view(), name="try-model"),
    path(
        "finetune-exports/<uuid:export_id>/download",
        apis.FinetuneExportDownloadApi.as_view(),
        name="finetune-export-download",
    ),
    path("finetune-jobs", apis.FinetuneJobListApi.as_view(), name="finetune-job-list"),
    path("finetune-jobs/<uuid:job_id>", apis.FinetuneJobDetailApi.as_view(), name="finetune-job-detail"),
    path("finetune-jobs/<uuid:job_id>/cancel", apis.FinetuneJobCancelApi.as_view(), name="finetune-job-cancel"),
]
