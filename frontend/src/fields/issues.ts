/** Matches validation issues to inspector fields (the API may say "config.cases[0].condition" or "cases.0.condition"). */
import type { ValidationIssue } from "../api/types";

export const normalizeField = (f: string | null | undefined): string =>
  (f ?? "").replace(/^config\./, "").replace(/\[(\d+)\]/g, ".$1").replace(/^\./, "");

export function issuesForField(issues: ValidationIssue[] | undefined, field: string): ValidationIssue[] {
  if (!issues) return [];
  return issues.filter((i) => {
    const f = normalizeField(i.field);
    return f === field || f.startsWith(`${field}.`);
  });
}
