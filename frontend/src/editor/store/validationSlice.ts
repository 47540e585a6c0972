/** Validation slice: the issues the API last reported, indexed by node for the cards and the inspector. */
import type { ValidationIssue } from "../../api/types";
import type { EditorSlice } from "./types";

export interface ValidationSlice {
  issues: ValidationIssue[];
  issuesByNode: Record<string, ValidationIssue[]>;
  validatedAt: number | null;
  setIssues: (issues: ValidationIssue[]) => void;
}

export const createValidationSlice: EditorSlice<ValidationSlice> = (set) => ({
  issues: [],
  issuesByNode: {},
  validatedAt: null,
  setIssues: (issues) => {
    const byNode: Record<string, ValidationIssue[]> = {};
    for (const issue of issues) if (issue.node_id) (byNode[issue.node_id] ??= []).push(issue);
    set({ issues, issuesByNode: byNode, validatedAt: Date.now() });
  },
});
