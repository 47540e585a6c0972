import { describe, expect, it } from "vitest";
import shared from "../../../builder/expressions/token_cases.json";
import { renameInValue } from "../graph/ids";
import { insideTemplateHole, quickCheck, tokenizeCel, tokenizeTemplate, wordAt } from "./cel";
import { issuesForField, normalizeField } from "./issues";

describe("CEL highlighting", () => {
  it("classifies roots, fields, strings, operators and keywords", () => {
    const kinds = tokenizeCel("nodes.triage.output.intent == 'refund' && true")
      .filter((t) => t.kind !== "space")
      .map((t) => `${t.kind}:${t.text}`);
    expect(kinds).toEqual([
      "root:nodes",
      "punct:.",
      "ident:triage",
      "punct:.",
      "ident:output",
      "punct:.",
      "ident:intent",
      "op:==",
      "string:'refund'",
      "op:&&",
      "keyword:true",
    ]);
  });

  // The server's tokenizer is tested on the same cases (builder/tests/test_token_cases.py).
  it.each(shared.cases)("splits $source as the server does", ({ source, tokens }) => {
    const texts = tokenizeCel(source)
      .filter((t) => t.kind !== "space")
      .map((t) => t.text);
    expect(texts).toEqual(tokens);
    expect(tokenizeCel(source).map((t) => t.text).join("")).toBe(source);
  });

  it("keeps the text of a template intact and highlights only inside the holes", () => {
    const tokens = tokenizeTemplate("Hi {{ workflow.input.name }}!");
    expect(tokens.map((t) => t.text).join("")).toBe("Hi {{ workflow.input.name }}!");
    expect(tokens.find((t) => t.kind === "root")?.text).toBe("workflow");
    expect(tokens[0]).toEqual({ kind: "space", text: "Hi " });
  });
});

describe("autocomplete context", () => {
  it("finds the dotted word before the caret", () => {
    expect(wordAt("size(nodes.ag", 13)).toEqual({ word: "nodes.ag", start: 5 });
    expect(wordAt("a == ", 5)).toEqual({ word: "", start: 5 });
  });

  it("completes in a template only inside an open hole", () => {
    expect(insideTemplateHole("Hello {{ wor", 12)).toBe(true);
    expect(insideTemplateHole("Hello {{ x }} wor", 17)).toBe(false);
  });
});

describe("quick checks and issue fields", () => {
  it("flags unbalanced brackets and unterminated strings", () => {
    expect(quickCheck("size(input")).toBe("Missing closing bracket");
    expect(quickCheck("input)")).toBe("Unbalanced closing bracket");
    expect(quickCheck("'abc")).toBe("Unterminated string");
    expect(quickCheck("input.x == ')'")).toBeNull();
  });

  it("matches API field paths to inspector fields", () => {
    expect(normalizeField("config.cases[0].condition")).toBe("cases.0.condition");
    const issues = [
      { severity: "error" as const, node_id: "r", field: "config.cases[0].condition", message: "bad" },
      { severity: "error" as const, node_id: "r", field: "config.cases[1].condition", message: "other" },
    ];
    expect(issuesForField(issues, "cases.0.condition").map((i) => i.message)).toEqual(["bad"]);
    expect(issuesForField(issues, "cases").map((i) => i.message)).toEqual(["bad", "other"]);
  });

  it("renames node references only as whole ids", () => {
    expect(renameInValue({ a: "nodes.x.output + nodes.xy.output", b: ["nodes.x"] }, "x", "z")).toEqual({
      a: "nodes.z.output + nodes.xy.output",
      b: ["nodes.z"],
    });
  });
});
