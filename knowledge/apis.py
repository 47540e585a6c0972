"""REST API for knowledge bases (DESIGN §9): /api/v1/knowledge-bases[/<id>[/files[/<fid>]|/search]]."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.db.models import Count
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import current_workspace, get_in_workspace
from knowledge import selectors, services
from knowledge.models import Chunk, FileStatus, KnowledgeBase, KnowledgeFile
from trellis.bodies import validated
from trellis.errors import ApplicationError
from trellis.fields import StrictCharField
from trellis.parsers import JSONParser

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file in a multipart body


class EmbeddingIn(serializers.Serializer):
    provider = StrictCharField(max_length=100, required=False, allow_blank=True)
    model = StrictCharField(max_length=200, required=False)
    dimensions = serializers.IntegerField(min_value=8, max_value=4096, required=False)


class KnowledgeBaseIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    embedding = EmbeddingIn(required=False)


class KnowledgeBasePatch(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    embedding = EmbeddingIn(required=False)


class FileOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    bytes = serializers.IntegerField()
    status = serializers.ChoiceField(FileStatus.choices)
    error = serializers.CharField()
    chunks = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EmbeddingOut(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    dimensions = serializers.IntegerField()


class FileCountsOut(serializers.Serializer):
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    processing = serializers.IntegerField()
    ready = serializers.IntegerField()
    failed = serializers.IntegerField()


class KnowledgeUsageOut(serializers.Serializer):
    workflow_id = serializers.UUIDField()
    workflow_name = serializers.CharField()
    nodes = serializers.ListField(child=serializers.CharField())


class KnowledgeBaseOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    embedding = EmbeddingOut()
    files = FileCountsOut()
    chunks = serializers.IntegerField()
    used_by = KnowledgeUsageOut(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SearchIn(serializers.Serializer):
    query = serializers.CharField(max_length=10000, allow_blank=True)
    top_k = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    mode = serializers.ChoiceField(selectors.MODES, default="hybrid")
    filters = serializers.DictField(required=False, allow_null=True, default=None)
    score_threshold = serializers.FloatField(required=False, allow_null=True, default=None)


class SearchResultOut(serializers.Serializer):
    file_id = serializers.UUIDField()
    file_name = serializers.CharField()
    chunk_id = serializers.CharField()
    score = serializers.FloatField()
    text = serializers.CharField()
    metadata = serializers.DictField()


class SearchOut(serializers.Serializer):
    results = SearchResultOut(many=True, help_text="best first")


def kb_out(kb: KnowledgeBase, used_by: list[dict] | None = None) -> dict:
    counts = {s: getattr(kb, f"files_{s}", None) for s in FileStatus.values}
    if any(v is None for v in counts.values()):
        rows = dict(kb.files.values("status").annotate(n=Count("id")).values_list("status", "n"))
        counts = {s: rows.get(s, 0) for s in FileStatus.values}
    return {
        "id": str(kb.id),
        "name": kb.name,
        "description": kb.description,
        "embedding": {
            "provider": kb.embedding_provider,
            "model": kb.embedding_model,
            "dimensions": kb.embedding_dimensions,
        },
        "files": {"total": sum(counts.values()), **counts},
        "chunks": kb.chunk_count,
        "used_by": used_by
        if used_by is not None
        else selectors.knowledge_base_usage(workspace_id=kb.workspace_id, knowledge_bases=[kb])[str(kb.id)],
        "created_at": kb.created_at.isoformat(),
        "updated_at": kb.updated_at.isoformat(),
    }


def file_out(file: KnowledgeFile) -> dict:
    return FileOut(file).data


def _kb(request, kb_id, role: str = Role.VIEWER) -> KnowledgeBase:
    return get_in_workspace(request, KnowledgeBase.objects.all(), role, pk=kb_id)


class KnowledgeBaseListApi(APIView):
    @extend_schema(operation_id="knowledge_base_list", responses=KnowledgeBaseOut(many=True))
    def get(self, request):
        membership = current_workspace(request)
        kbs = list(selectors.knowledge_base_list(workspace_id=membership.workspace_id))
        usage = selectors.knowledge_base_usage(workspace_id=membership.workspace_id, knowledge_bases=kbs)
        return Response([kb_out(kb, usage[str(kb.id)]) for kb in kbs])

    @extend_schema(request=KnowledgeBaseIn, responses={201: KnowledgeBaseOut}, operation_id="knowledge_base_create")
    def post(self, request):
        membership = current_workspace(request, Role.EDITOR)
        values = validated(KnowledgeBaseIn, request)
        kb = services.knowledge_base_create(workspace=membership.workspace, by=request.user, **values)
        return Response(kb_out(kb), status=status.HTTP_201_CREATED)


class KnowledgeBaseDetailApi(APIView):
    @extend_schema(operation_id="knowledge_base_read", responses=KnowledgeBaseOut)
    def get(self, request, kb_id):
        return Response(kb_out(_kb(request, kb_id)))

    @extend_schema(request=KnowledgeBasePatch, responses=KnowledgeBaseOut, operation_id="knowledge_base_update")
    def patch(self, request, kb_id):
        kb = _kb(request, kb_id, Role.EDITOR)
        data = validated(KnowledgeBasePatch, request)
        kb = services.knowledge_base_update(
            knowledge_base=kb,
            name=data.get("name"),
            description=data.get("description"),
            embedding=data.get("embedding"),
        )
        return Response(kb_out(kb))

    @extend_schema(operation_id="knowledge_base_delete", responses={204: None})
    def delete(self, request, kb_id):
        services.knowledge_base_delete(knowledge_base=_kb(request, kb_id, Role.EDITOR))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _TooLarge(Exception):
    pass


class _SizeLimitHandler(FileUploadHandler):
    """Stops a multipart upload as soon as the file passes the limit, also when the client sent no
    Content-Length (chunked): nothing past the limit is read into memory or a temporary file."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.KNOWLEDGE_MAX_FILE_BYTES:
            raise _TooLarge()
        return raw_data

    def file_complete(self, file_size):
        return None


class KnowledgeFileListApi(APIView):
    parser_classes = [JSONParser, parsers.MultiPartParser]

    @extend_schema(operation_id="knowledge_file_list", responses=FileOut(many=True))
    def get(self, request, kb_id):
        kb = _kb(request, kb_id)
        return Response([file_out(f) for f in selectors.file_list(knowledge_base=kb)])

    @extend_schema(
        operation_id="knowledge_file_upload",
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={202: FileOut, 200: FileOut},
    )
    def post(self, request, kb_id):
        kb = _kb(request, kb_id, Role.EDITOR)
        # Refused before a byte of the body is read: the declared length alone is enough.
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.KNOWLEDGE_MAX_FILE_BYTES + MULTIPART_OVERHEAD:
            raise services.file_too_large()
        request.upload_handlers.insert(0, _SizeLimitHandler(request))
        try:
            payload = request.data
        except _TooLarge:
            raise services.file_too_large() from None
        tags = _tags(payload.get("tags"))
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            if upload.size > settings.KNOWLEDGE_MAX_FILE_BYTES:
                raise services.file_too_large()
            data, name = upload.read(), payload.get("name") or upload.name
        else:
            name, text = payload.get("name"), payload.get("text")
            if not isinstance(name, str) or not isinstance(text, str):
                raise ApplicationError(
                    "validation_error",
                    "Send a multipart `file`, or JSON {name, text}.",
                    [{"field": "file", "message": "This field is required."}],
                )
            data = text.encode()
            if "." not in name.rsplit("/", 1)[-1]:
                name += ".txt"
        file, created = services.file_upload(knowledge_base=kb, name=name, data=data, tags=tags)
        return Response(file_out(file), status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


def _tags(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return [t.strip() for t in value if t.strip()]

    raise ApplicationError("validation_error", "`tags` must be a list of strings or a comma-separated string.")


class KnowledgeFileDetailApi(APIView):
    @extend_schema(operation_id="knowledge_file_read", responses=FileOut)
    def get(self, request, kb_id, file_id):
        kb = _kb(request, kb_id)
        return Response(
            file_out(get_in_workspace(request, KnowledgeFile.objects.filter(knowledge_base=kb), pk=file_id))
        )

    @extend_schema(operation_id="knowledge_file_delete", responses={204: None})
    def delete(self, request, kb_id, file_id):
        kb = _kb(request, kb_id, Role.EDITOR)
        file = get_in_workspace(request, KnowledgeFile.objects.filter(knowledge_base=kb), Role.EDITOR, pk=file_id)
        services.file_delete(file=file)
        return Response(status=status.HTTP_204_NO_CONTENT)


# How a stored file is answered: (content type, inline?). HTML and DOCX are downloads, never rendered on
# our origin (an uploaded page's scripts must not run with the user's session); the rest is shown inline.
CONTENT_TYPES = {
    "pdf": ("application/pdf", True),
    "text": ("text/plain; charset=utf-8", True),
    "markdown": ("text/plain; charset=utf-8", True),
    "csv": ("text/plain; charset=utf-8", True),
    "json": ("application/json", True),
    "html": ("application/octet-stream", False),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", False),
}


class KnowledgeFileContentApi(APIView):
    """The file as uploaded, for the links of the run detail's citations and the Knowledge page."""

    @extend_schema(
        operation_id="knowledge_file_content",
        responses={
            (200, content_type.split(";")[0]): {"type": "string", "format": "binary"}
            for content_type in sorted({t for t, _ in CONTENT_TYPES.values()})
        },
    )
    def get(self, request, kb_id, file_id):
        kb = _kb(request, kb_id)
        file = get_in_workspace(request, KnowledgeFile.objects.filter(knowledge_base=kb), pk=file_id)
        try:
            handle = services.storage().open(file.storage_name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        content_type, inline = CONTENT_TYPES.get(file.kind, ("application/octet-stream", False))
        response = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=file.name)
        response["X-Content-Type-Options"] = "nosniff"
        if file.kind != "pdf":  # (Chromium will not show a PDF in a sandboxed document; its viewer runs no page script)
            response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


class ChunkOut(serializers.Serializer):
    id = serializers.CharField()
    file_id = serializers.UUIDField()
    file_name = serializers.CharField()
    ordinal = serializers.IntegerField()
    text = serializers.CharField()
    metadata = serializers.DictField()


class KnowledgeChunkApi(APIView):
    """One chunk's text: what a citation (file and chunk ids) points at."""

    @extend_schema(operation_id="knowledge_chunk_read", responses=ChunkOut)
    def get(self, request, kb_id, chunk_id):
        kb = _kb(request, kb_id)
        chunk = Chunk.objects.select_related("file").filter(knowledge_base=kb, pk=chunk_id).first()
        if chunk is None:
            raise Http404
        return Response(
            {
                "id": str(chunk.pk),
                "file_id": str(chunk.file_id),
                "file_name": chunk.file.name,
                "ordinal": chunk.ordinal,
                "text": chunk.text,
                "metadata": chunk.metadata,
            }
        )


class KnowledgeSearchApi(APIView):
    @extend_schema(request=SearchIn, responses=SearchOut, operation_id="knowledge_search")
    def post(self, request, kb_id):
        kb = _kb(request, kb_id)
        results = selectors.search(selectors.plan_search(knowledge_base=kb, **validated(SearchIn, request)))
        return Response({"results": results})
