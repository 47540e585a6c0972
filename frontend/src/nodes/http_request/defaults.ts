import type { HttpRequestConfig } from "./types";

export const httpRequestDefaults = (): HttpRequestConfig => ({
  method: "GET",
  url: "https://example.com/api",
  expect: "json",
});
