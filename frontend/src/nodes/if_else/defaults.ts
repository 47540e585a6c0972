import type { IfElseConfig } from "./types";

export const ifElseDefaults = (): IfElseConfig => ({
  cases: [{ port: "case_1", label: "Case 1", condition: "true" }],
});
