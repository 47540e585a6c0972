/** The one HTTP helper: session cookie + CSRF header on writes, the selected workspace header, the error shape. */

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.code = body.code;
    this.details = body.details;
  }
}

/** Thrown when the request never reached the server (offline, server down). */
export class NetworkError extends Error {}

let workspaceSlug: string | null = null;

export function setWorkspace(slug: string | null): void {
  workspaceSlug = slug;
}

export function currentWorkspace(): string | null {
  return workspaceSlug;
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (workspaceSlug) headers["X-Trellis-Workspace"] = workspaceSlug;
  let response: Response;
  try {
    response = await fetch(`/api/v1/${path.replace(/^\//, "")}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : "Network error");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    if (response.status === 401 || (response.status === 403 && response.redirected)) {
      window.location.href = `/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`;
    }
    const err = (data as { error?: ApiErrorBody } | undefined)?.error;
    throw new ApiError(response.status, err ?? { code: `http_${response.status}`, message: response.statusText || "Request failed" });
  }
  return data as T;
}

/** Lists may come bare or paginated ({results: […]}). */
export function unwrapList<T>(data: T[] | { results?: T[]; items?: T[] } | undefined): T[] {
  if (!data) return [];
  if (Array.isArray(data)) return data;
  return data.results ?? data.items ?? [];
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message || e.code;
  if (e instanceof Error) return e.message;
  return String(e);
}
