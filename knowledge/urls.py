"""REST routes for knowledge bases, mounted under /api/v1/."""

from django.urls import path

from knowledge import apis

urlpatterns = [
    path("knowledge-bases", apis.KnowledgeBaseListApi.as_view(), name="knowledge-base-list"),
    path("knowledge-bases/<uuid:kb_id>", apis.KnowledgeBaseDetailApi.as_view(), name="knowledge-base-detail"),
    path("knowledge-bases/<uuid:kb_id>/files", apis.KnowledgeFileListApi.as_view(), name="knowledge-file-list"),
    path(
        "knowledge-bases/<uuid:kb_id>/files/<uuid:file_id>",
        apis.KnowledgeFileDetailApi.as_view(),
        name="knowledge-file-detail",
    ),
    path(
        "knowledge-bases/<uuid:kb_id>/files/<uuid:file_id>/content",
        apis.KnowledgeFileContentApi.as_view(),
        name="knowledge-file-content",
    ),
    path(
        "knowledge-bases/<uuid:kb_id>/chunks/<int:chunk_id>", apis.KnowledgeChunkApi.as_view(), name="knowledge-chunk"
    ),
    path("knowledge-bases/<uuid:kb_id>/search", apis.KnowledgeSearchApi.as_view(), name="knowledge-search"),
]
