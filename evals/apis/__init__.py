"""REST API of the data flywheel (DESIGN §10). Views are thin: look up with role checks, call a service,
render with a selector. Viewers read; editors write and start evals."""

from evals.apis.datasets import (
    DatasetDetailApi,
    DatasetExportApi,
    DatasetFromRunsApi,
    DatasetImportApi,
    DatasetItemDetailApi,
    DatasetItemsApi,
    DatasetListApi,
    RunAddToDatasetApi,
    RunFeedbackApi,
)
from evals.apis.evals import EvalCancelApi, EvalCompareApi, EvalDetailApi, EvalListApi, GraderCheckApi, PublishGateApi
from evals.apis.finetune import (
    FinetuneExportDownloadApi,
    FinetuneExportListApi,
    FinetuneJobCancelApi,
    FinetuneJobDetailApi,
    FinetuneJobListApi,
    TryModelApi,
)

__all__ = [
    "DatasetDetailApi",
    "DatasetExportApi",
    "DatasetFromRunsApi",
    "DatasetImportApi",
    "DatasetItemDetailApi",
    "DatasetItemsApi",
    "DatasetListApi",
    "EvalCancelApi",
    "GraderCheckApi",
    "EvalCompareApi",
    "EvalDetailApi",
    "EvalListApi",
    "FinetuneExportDownloadApi",
    "FinetuneExportListApi",
    "FinetuneJobCancelApi",
    "FinetuneJobDetailApi",
    "FinetuneJobListApi",
    "PublishGateApi",
    "RunAddToDatasetApi",
    "RunFeedbackApi",
    "TryModelApi",
]
