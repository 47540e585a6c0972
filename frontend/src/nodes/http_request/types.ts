import type { ExecConfig, TypedNode } from "../common";

/** Credentials from a workspace secret (builder/catalog.py AUTH). */
export interface AuthRef {
  type: "bearer" | "header" | "basic";
  secret: string;
  header?: string;
  username?: string;
}

export interface HttpRequestConfig extends ExecConfig {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  auth?: AuthRef | null;
  expect?: "json" | "text";
}
export type HttpRequestNode = TypedNode<"http_request", HttpRequestConfig>;
