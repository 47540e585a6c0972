/** Knowledge bases (DESIGN §9): list/create/delete, files (upload with progress), search. The REST shapes come from
 * the OpenAPI document (schema.d.ts); the WebSocket's progress messages are written here. */
import { ApiError, api, csrfToken, currentWorkspace, NetworkError, unwrapList } from "./client";
import type { components } from "./schema";
import { followSocket } from "./socket";

type Schemas = components["schemas"];

export type FileStatus = Schemas["FileOutStatusEnum"];
export type SearchMode = Schemas["ModeEnum"];

export type KnowledgeBase = Schemas["KnowledgeBaseOut"];

export type KnowledgeFile = Schemas["FileOut"];

export type SearchResult = Schemas["SearchResultOut"];

export const listKnowledgeBases = async () => unwrapList(await api<KnowledgeBase[]>("GET", "knowledge-bases"));
export const createKnowledgeBase = (body: { name: string; description?: string }) =>
  api<KnowledgeBase>("POST", "knowledge-bases", body);
export const deleteKnowledgeBase = (id: string) => api<void>("DELETE", `knowledge-bases/${id}`);
export const listKnowledgeFiles = async (kbId: string) =>
  unwrapList(await api<KnowledgeFile[]>("GET", `knowledge-bases/${kbId}/files`));
export const deleteKnowledgeFile = (kbId: string, fileId: string) =>
  api<void>("DELETE", `knowledge-bases/${kbId}/files/${fileId}`);
export const searchKnowledgeBase = async (kbId: string, body: { query: string; mode: SearchMode; top_k: number }) =>
  (await api<Schemas["SearchOut"]>("POST", `knowledge-bases/${kbId}/search`, body)).results;

/** Multipart upload with progress (fetch cannot report upload progress; XMLHttpRequest can). */
export function uploadKnowledgeFile(kbId: string, file: File, onProgress: (fraction: number) => void): Promise<KnowledgeFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/knowledge-bases/${kbId}/files`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    const workspace = currentWorkspace();
    if (workspace) xhr.setRequestHeader("X-Trellis-Workspace", workspace);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new NetworkError("The upload was interrupted."));
    xhr.onload = () => {
      let data: unknown = undefined;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(data as KnowledgeFile);
      } else {
        const err = (data as { error?: { code: string; message: string } } | undefined)?.error;
        reject(new ApiError(xhr.status, err ?? { code: `http_${xhr.status}`, message: xhr.statusText || "Upload failed" }));
      }
    };
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

/** What /ws/knowledge-bases/<id>/ sends: a snapshot of the files' statuses, then live progress. */
export interface FileProgress {
  type: "file.progress";
  file_id: string;
  name: string;
  status: FileStatus;
  /** 0..1 while queued or processing (embedding fills most of it); 1 when ready; null when failed. */
  progress: number | null;
  error: string;
  chunks: number | null;
}
export interface FilesSnapshot {
  type: "snapshot";
  files: { file_id: string; name: string; status: FileStatus; error: string; chunks: number }[];
}
export type KnowledgeEvent = FileProgress | FilesSnapshot;

/** Follows a knowledge base's ingestion progress (reconnecting; each connection starts with a snapshot).
 * Returns a function that stops following. */
export function followKnowledgeBase(kbId: string, onEvent: (e: KnowledgeEvent) => void): () => void {
  // Not found, forbidden, unauthenticated: reconnecting would not help.
  const final = new Set([4404, 4403, 4401]);
  return followSocket(
    () => `/ws/knowledge-bases/${kbId}/`,
    (data) => onEvent(data as KnowledgeEvent),
    (close) => final.has(close.code),
  );
}

/** Applies one event to the live state of the files (file id → status and progress). Pure, for tests. */
export interface LiveFile {
  status: FileStatus;
  progress: number | null;
  error: string;
}
export function applyKnowledgeEvent(live: Record<string, LiveFile>, e: KnowledgeEvent): Record<string, LiveFile> {
  if (e.type === "snapshot") {
    const next: Record<string, LiveFile> = {};
    for (const f of e.files) next[f.file_id] = { status: f.status, progress: f.status === "ready" ? 1 : null, error: f.error };
    return next;
  }
  const before = live[e.file_id];
  // A late, lower fraction of the same stage (two batches' events racing) does not move the bar back.
  const progress =
    before && before.status === e.status && e.progress !== null && before.progress !== null ? Math.max(before.progress, e.progress) : e.progress;
  return { ...live, [e.file_id]: { status: e.status, progress, error: e.error } };
}
