/** A small CEL tokenizer for highlighting, and the word under the caret for autocomplete. */

export type TokenKind = "string" | "number" | "keyword" | "root" | "ident" | "op" | "space" | "punct" | "template";

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(["true", "false", "null", "in", "has", "size", "int", "double", "string", "matches", "exists", "all", "map", "filter"]);
const ROOTS = new Set(["workflow", "nodes", "state", "input", "run", "trigger", "loop"]);

// The server's grammar (builder/expressions/parser.py); both are tested on builder/expressions/token_cases.json.
const SPACE = /^(?:\s+|\/\/[^\n]*)/;
const STRING =
  /^(?:[rR][bB]?|[bB][rR]?)?(?:"""(?:\\[\s\S]|[^\\])*?"""|'''(?:\\[\s\S]|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const OP = /^(?:==|!=|<=|>=|&&|\|\||[<>!+\-*/%?:])/;
const PUNCT = /^(?:\.\?|\[\?|[.[\](){},])/;
const UNCLOSED = /^["'][^\n]*/; // a string still being typed: highlighted to the end of the line

export function tokenizeCel(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(SPACE))) out.push({ kind: "space", text: m[0] });
    else if ((m = rest.match(STRING))) out.push({ kind: "string", text: m[0] });
    else if ((m = rest.match(NUMBER))) out.push({ kind: "number", text: m[0] });
    else if ((m = rest.match(IDENT))) {
      const prev = out.length ? out[out.length - 1].text : "";
      const field = prev === "." || prev === ".?"; // a field name, even one spelled like a keyword
      out.push({ kind: field ? "ident" : KEYWORDS.has(m[0]) ? "keyword" : ROOTS.has(m[0]) ? "root" : "ident", text: m[0] });
    } else if ((m = rest.match(PUNCT))) out.push({ kind: "punct", text: m[0] });
    else if ((m = rest.match(OP))) out.push({ kind: "op", text: m[0] });
    else if ((m = rest.match(UNCLOSED))) out.push({ kind: "string", text: m[0] });
    else out.push({ kind: "punct", text: src[i] });
    i += out[out.length - 1].text.length;
  }
  return out;
}

/** Template text: plain outside `{{ }}`, CEL inside. */
export function tokenizeTemplate(src: string): Token[] {
  const out: Token[] = [];
  const re = /\{\{([\s\S]*?)(\}\}|$)/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    if (m.index > last) out.push({ kind: "space", text: src.slice(last, m.index) });
    out.push({ kind: "template", text: "{{" });
    out.push(...tokenizeCel(m[1]));
    if (m[2]) out.push({ kind: "template", text: m[2] });
    last = m.index + m[0].length;
    if (m[0].length === 0) break;
  }
  if (last < src.length) out.push({ kind: "space", text: src.slice(last) });
  return out;
}

/** The dotted name that ends at `caret`, e.g. "nodes.tri" — and where it starts. */
export function wordAt(src: string, caret: number): { word: string; start: number } {
  let start = caret;
  while (start > 0 && /[A-Za-z0-9_.]/.test(src[start - 1])) start--;
  return { word: src.slice(start, caret), start };
}

/** Whether the caret sits inside an open `{{ … }}` hole. */
export function insideTemplateHole(src: string, caret: number): boolean {
  const before = src.slice(0, caret);
  return before.lastIndexOf("{{") > before.lastIndexOf("}}");
}

/** Cheap local checks so the user sees a mistake before the server validates. */
export function quickCheck(src: string): string | null {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (depth < 0) return "Unbalanced closing bracket";
  }
  if (quote) return "Unterminated string";
  if (depth > 0) return "Missing closing bracket";
  return null;
}
