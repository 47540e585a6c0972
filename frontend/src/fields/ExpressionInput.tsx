/**
 * A CEL expression (or `{{ }}` template) editor: a textarea over a highlighted copy of its text,
 * with autocomplete of the names in scope at this node.
 */
import { memo, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { scopeAt, type ScopeEntry } from "../graph/scope";
import { useNodeViewStore } from "./context";
import { insideTemplateHole, quickCheck, tokenizeCel, tokenizeTemplate, wordAt } from "./cel";

interface Props {
  nodeId: string;
  value: string;
  onChange: (value: string) => void;
  mode?: "cel" | "template";
  label: string;
  rows?: number;
  placeholder?: string;
}

export const ExpressionInput = memo(function ExpressionInput({ nodeId, value, onChange, mode = "cel", label, rows, placeholder }: Props) {
  const store = useNodeViewStore();
  const ref = useRef<HTMLTextAreaElement>(null);
  const overlay = useRef<HTMLPreElement>(null);
  const listId = useId();
  const [suggest, setSuggest] = useState<{ items: ScopeEntry[]; start: number; active: number } | null>(null);
  const tokens = useMemo(() => (mode === "cel" ? tokenizeCel(value) : tokenizeTemplate(value)), [value, mode]);
  const localError = useMemo(() => {
    if (mode === "cel") return value.trim() ? quickCheck(value) : null;
    const holes = [...value.matchAll(/\{\{([\s\S]*?)\}\}/g)].map((m) => quickCheck(m[1])).find(Boolean);
    if (holes) return holes;
    return (value.match(/\{\{/g)?.length ?? 0) !== (value.match(/\}\}/g)?.length ?? 0) ? "Unclosed {{ … }}" : null;
  }, [value, mode]);

  const refreshSuggestions = (text: string, caret: number, force = false) => {
    if (mode === "template" && !insideTemplateHole(text, caret)) return setSuggest(null);
    const { word, start } = wordAt(text, caret);
    if (!word && !force) return setSuggest(null);
    const { nodes, edges } = store.getState();
    const items = scopeAt(nodeId, nodes, edges)
      .filter((e) => e.path.startsWith(word) && e.path !== word)
      .slice(0, 12);
    setSuggest(items.length ? { items, start, active: 0 } : null);
  };

  const accept = (entry: ScopeEntry) => {
    const el = ref.current;
    if (!el || !suggest) return;
    const caret = el.selectionStart;
    const next = value.slice(0, suggest.start) + entry.path + value.slice(caret);
    onChange(next);
    setSuggest(null);
    const pos = suggest.start + entry.path.length;
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(pos, pos);
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === " " && e.ctrlKey) {
      e.preventDefault();
      refreshSuggestions(value, e.currentTarget.selectionStart, true);
      return;
    }
    if (!suggest) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const d = e.key === "ArrowDown" ? 1 : -1;
      setSuggest({ ...suggest, active: (suggest.active + d + suggest.items.length) % suggest.items.length });
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      accept(suggest.items[suggest.active]);
    } else if (e.key === "Escape") {
      e.stopPropagation();
      setSuggest(null);
    }
  };

  const lines = rows ?? (mode === "template" ? 4 : 1);
  return (
    <div className={`expr expr-${mode}${localError ? " expr-invalid" : ""}`}>
      <pre ref={overlay} className="expr-highlight" aria-hidden>
        {tokens.map((t, i) => (
          <span key={i} className={`tok-${t.kind}`}>
            {t.text}
          </span>
        ))}
        {"\n"}
      </pre>
      <textarea
        ref={ref}
        className="expr-input"
        aria-label={label}
        aria-autocomplete="list"
        aria-controls={suggest ? listId : undefined}
        aria-expanded={!!suggest}
        aria-invalid={!!localError}
        role="combobox"
        spellCheck={false}
        rows={lines}
        placeholder={placeholder ?? (mode === "cel" ? "CEL, e.g. workflow.input.message" : "Text with {{ expressions }}")}
        value={value}
        onChange={(e) => {
          onChange(e.target.value);
          refreshSuggestions(e.target.value, e.target.selectionStart);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => window.setTimeout(() => setSuggest(null), 150)}
        onScroll={(e) => {
          if (overlay.current) overlay.current.scrollTop = e.currentTarget.scrollTop;
        }}
      />
      {suggest && (
        <ul id={listId} className="suggest" role="listbox" aria-label={`Names in scope for ${label}`}>
          {suggest.items.map((item, i) => (
            <li
              key={item.path}
              role="option"
              aria-selected={i === suggest.active}
              className={i === suggest.active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(item);
              }}
            >
              <code>{item.path}</code> <span className="muted">{item.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {localError && <div className="field-error">{localError}</div>}
    </div>
  );
});
