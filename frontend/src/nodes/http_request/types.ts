import type { ExecConfig, TypedNode } from "../common";

export interface SecretRef {
  secret: string;
}

export interface HttpRequestConfig extends ExecConfig {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  auth?: { type: string; token?: SecretRef } | null;
  expect?: "json" | "text";
}
export type HttpRequestNode = TypedNode<"http_request", HttpRequestConfig>;
