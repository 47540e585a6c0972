/**
 * A dataset's graders, edited one small form per grader type (string_check, text_similarity, json_schema,
 * cel, score_model, label_model, multi), with the raw JSON as a fallback tab. The server stays the judge of
 * validity: "Check" asks it about one grader (a CEL expression that does not compile says why), "Save"
 * stores the list or shows its error.
 */
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { checkGrader, type Grader } from "../../api/evals";

export const GRADER_TYPES = ["string_check", "text_similarity", "json_schema", "cel", "score_model", "label_model", "multi"] as const;
type GraderType = (typeof GRADER_TYPES)[number];

const TYPE_LABELS: Record<GraderType, string> = {
  string_check: "Text comparison",
  text_similarity: "Text similarity",
  json_schema: "JSON schema validity",
  cel: "CEL assertion",
  score_model: "LLM judge: score",
  label_model: "LLM judge: label",
  multi: "Weighted combination",
};

const TYPE_HELP: Record<GraderType, string> = {
  string_check: "Passes when the output compares to the reference as chosen.",
  text_similarity: "Scores 0–1 by how close the output is to the reference.",
  json_schema: "Passes when the output is JSON that matches the schema.",
  cel: "Passes when the expression is true. It sees input, output and expected.",
  score_model: "A model reads the rubric and gives a score in the range.",
  label_model: "A model picks one label; some labels pass.",
  multi: "The weighted mean of other graders' scores.",
};

const RUBRIC_USER = "Input: {{ input }}\nAnswer: {{ output }}\nReference: {{ expected }}";

/** A new grader of `type` with working defaults, so that it can be saved as it is. */
export function defaultGrader(type: GraderType, name: string): Grader {
  switch (type) {
    case "string_check":
      return { type, name, input: "{{ output }}", operation: "eq", reference: "{{ expected }}" };
    case "text_similarity":
      return { type, name, input: "{{ output }}", reference: "{{ expected }}", evaluation_metric: "fuzzy_match", pass_threshold: 0.8 };
    case "json_schema":
      return { type, name, input: "{{ output }}", schema: { type: "object" } };
    case "cel":
      return { type, name, expression: "output == expected" };
    case "score_model":
      return {
        type,
        name,
        model: "gpt-4.1-mini",
        input: [
          { role: "system", content: "Score the answer from 0 (wrong) to 1 (fully correct)." },
          { role: "user", content: RUBRIC_USER },
        ],
        range: [0, 1],
        pass_threshold: 0.5,
      };
    case "label_model":
      return {
        type,
        name,
        model: "gpt-4.1-mini",
        input: [
          { role: "system", content: "Label the answer: correct or incorrect." },
          { role: "user", content: RUBRIC_USER },
        ],
        labels: ["correct", "incorrect"],
        passing_labels: ["correct"],
      };
    case "multi":
      return {
        type,
        name,
        graders: { exact: defaultGrader("string_check", "exact"), close: defaultGrader("text_similarity", "close") },
        weights: { exact: 1, close: 1 },
        pass_threshold: 0.5,
      };
  }
}

function uniqueName(graders: Grader[], base: string): string {
  let name = base;
  for (let i = 2; graders.some((g) => g.name === name); i++) name = `${base}_${i}`;
  return name;
}

export function GradersEditor({
  wf,
  graders,
  canEdit,
  onSave,
}: {
  wf: string;
  graders: Grader[];
  canEdit: boolean;
  onSave: (graders: Grader[]) => Promise<void>;
}) {
  const [draft, setDraftState] = useState<Grader[]>(graders);
  // A stable key per card, so that removing one does not hand its neighbour's local state (JSON text,
  // check result) to the next card.
  const [keys, setKeys] = useState<number[]>(() => graders.map((_, i) => i));
  const [nextKey, setNextKey] = useState(graders.length);
  const setDraft = (next: Grader[], nextKeys?: number[]) => {
    setDraftState(next);
    if (nextKeys) setKeys(nextKeys);
    else if (next.length !== draft.length) {
      setKeys(next.map((_, i) => nextKey + i));
      setNextKey(nextKey + next.length);
    }
  };
  const [raw, setRaw] = useState<string | null>(null); // the JSON tab's text while it is open
  const [rawError, setRawError] = useState<string | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [adding, setAdding] = useState<GraderType>("string_check");

  const update = (i: number, next: Grader) => setDraft(draft.map((g, j) => (j === i ? next : g)));
  const showForm = () => {
    if (raw === null) return;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (!Array.isArray(parsed)) throw new Error("The graders are a JSON list: [ {...}, ... ]");
      // Edited as text: every card starts afresh.
      setDraft(parsed as Grader[], parsed.map((_, i) => nextKey + i));
      setNextKey(nextKey + parsed.length);
      setRaw(null);
      setRawError(null);
    } catch (e) {
      setRawError(`Fix the JSON first: ${(e as Error).message}`);
    }
  };
  const save = async () => {
    setStatus(null);
    let list = draft;
    if (raw !== null) {
      try {
        list = JSON.parse(raw) as Grader[];
      } catch (e) {
        setRawError(`Not valid JSON: ${(e as Error).message}`);
        return;
      }
    }
    try {
      await onSave(list);
      setStatus({ ok: true, text: "Graders saved." });
    } catch (e) {
      setStatus({ ok: false, text: errorMessage(e) });
    }
  };

  return (
    <div className="graders-editor" role="group" aria-label="Graders">
      <div className="seg" role="tablist" aria-label="Graders view">
        <button type="button" role="tab" aria-selected={raw === null} className={raw === null ? "active" : ""} onClick={showForm}>
          Form
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={raw !== null}
          className={raw !== null ? "active" : ""}
          onClick={() => raw === null && setRaw(JSON.stringify(draft, null, 2))}
        >
          JSON
        </button>
      </div>
      {raw !== null ? (
        <textarea
          aria-label="Graders JSON"
          rows={12}
          spellCheck={false}
          value={raw}
          readOnly={!canEdit}
          onChange={(e) => {
            setRaw(e.target.value);
            setRawError(null);
          }}
        />
      ) : (
        <>
          {draft.length === 0 && <p className="muted">No grader yet: an eval needs at least one. Add one below.</p>}
          {draft.map((g, i) => (
            <GraderCard
              key={keys[i]}
              wf={wf}
              grader={g}
              canEdit={canEdit}
              onChange={(next) => update(i, next)}
              onRemove={() => setDraft(draft.filter((_, j) => j !== i), keys.filter((_, j) => j !== i))}
            />
          ))}
          {canEdit && (
            <div className="inline-form">
              <select aria-label="New grader type" value={adding} onChange={(e) => setAdding(e.target.value as GraderType)}>
                {GRADER_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {TYPE_LABELS[t]}
                  </option>
                ))}
              </select>
              <button
                type="button"
                onClick={() => {
                  setDraft([...draft, defaultGrader(adding, uniqueName(draft, adding))], [...keys, nextKey]);
                  setNextKey(nextKey + 1);
                }}
              >
                Add grader
              </button>
            </div>
          )}
        </>
      )}
      {rawError && <p className="field-error" role="alert">{rawError}</p>}
      {canEdit && (
        <div className="inline-form">
          <button type="button" className="primary" onClick={() => void save()}>
            Save graders
          </button>
          {status && (
            <span role={status.ok ? "status" : "alert"} className={status.ok ? "muted" : "field-error"}>
              {status.text}
            </span>
          )}
        </div>
      )}
    </div>
  );
}

function Field({ label, hint, children }: { label: string; hint?: string; children: React.ReactNode }) {
  return (
    <label className="grader-field">
      <span>{label}</span>
      {children}
      {hint && <small className="muted">{hint}</small>}
    </label>
  );
}

function GraderCard({
  wf,
  grader,
  canEdit,
  onChange,
  onRemove,
}: {
  wf: string;
  grader: Grader;
  canEdit: boolean;
  onChange: (g: Grader) => void;
  onRemove: () => void;
}) {
  const type = grader.type as GraderType;
  const known = (GRADER_TYPES as readonly string[]).includes(type);
  const [check, setCheck] = useState<{ ok: boolean; text: string } | null>(null);
  const set = (key: string, value: unknown) => {
    setCheck(null);
    const next = { ...grader, [key]: value };
    if (value === undefined) delete next[key];
    onChange(next);
  };
  const runCheck = async () => {
    try {
      await checkGrader(wf, grader);
      setCheck({ ok: true, text: type === "cel" ? "The expression compiles." : "This grader is valid." });
    } catch (e) {
      setCheck({ ok: false, text: errorMessage(e) });
    }
  };
  const str = (key: string, fallback = "") => (typeof grader[key] === "string" ? (grader[key] as string) : fallback);
  const threshold = grader.pass_threshold as number | undefined;

  return (
    <fieldset className="grader-card" aria-label={`Grader ${grader.name}`} disabled={!canEdit}>
      <div className="grader-head">
        <Field label="Name">
          <input aria-label="Grader name" value={grader.name} onChange={(e) => set("name", e.target.value)} />
        </Field>
        <Field label="Type">
          <select
            aria-label="Grader type"
            value={type}
            onChange={(e) => onChange({ ...defaultGrader(e.target.value as GraderType, grader.name) })}
          >
            {GRADER_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]}
              </option>
            ))}
            {!known && <option value={type}>{type}</option>}
          </select>
        </Field>
        {type !== "string_check" && type !== "json_schema" && type !== "cel" && type !== "label_model" && (
          <Field label="Pass at score ≥">
            <input
              aria-label="Pass threshold"
              type="number"
              step="0.05"
              value={threshold ?? ""}
              placeholder={type === "score_model" ? "middle of the range" : "0.5"}
              onChange={(e) => set("pass_threshold", e.target.value === "" ? undefined : Number(e.target.value))}
            />
          </Field>
        )}
        {canEdit && (
          <button type="button" className="link-btn grader-remove" aria-label={`Remove grader ${grader.name}`} onClick={onRemove}>
            Remove
          </button>
        )}
      </div>
      {known && <p className="muted small-text">{TYPE_HELP[type]}</p>}

      {(type === "string_check" || type === "text_similarity") && (
        <div className="grader-row">
          <Field label="Compare" hint="A template: {{ output }}, {{ output.field }}…">
            <input aria-label="Input template" value={str("input", "{{ output }}")} onChange={(e) => set("input", e.target.value)} />
          </Field>
          {type === "string_check" ? (
            <Field label="How">
              <select aria-label="Operation" value={str("operation", "eq")} onChange={(e) => set("operation", e.target.value)}>
                <option value="eq">equals</option>
                <option value="ne">differs from</option>
                <option value="like">contains</option>
                <option value="ilike">contains (any case)</option>
              </select>
            </Field>
          ) : (
            <Field label="Metric">
              <select aria-label="Metric" value={str("evaluation_metric", "fuzzy_match")} onChange={(e) => set("evaluation_metric", e.target.value)}>
                <option value="fuzzy_match">fuzzy match</option>
                <option value="bleu">BLEU</option>
                <option value="rouge_1">ROUGE-1</option>
                <option value="rouge_2">ROUGE-2</option>
                <option value="rouge_l">ROUGE-L</option>
              </select>
            </Field>
          )}
          <Field label="With" hint="Usually {{ expected }}, or fixed text">
            <input aria-label="Reference template" value={str("reference", "{{ expected }}")} onChange={(e) => set("reference", e.target.value)} />
          </Field>
        </div>
      )}

      {type === "json_schema" && (
        <>
          <Field label="Check" hint="A template; its text must parse as JSON">
            <input aria-label="Input template" value={str("input", "{{ output }}")} onChange={(e) => set("input", e.target.value)} />
          </Field>
          <JsonField key={type} label="JSON Schema" value={grader.schema} onChange={(v) => set("schema", v)} rows={5} />
        </>
      )}

      {type === "cel" && (
        <Field label="Expression (true passes)" hint="e.g. output.size() > 0 && output == expected">
          <input aria-label="CEL expression" className="code" value={str("expression")} onChange={(e) => set("expression", e.target.value)} />
        </Field>
      )}

      {(type === "score_model" || type === "label_model") && <JudgeFields grader={grader} set={set} />}

      {type === "multi" && <MultiFields grader={grader} set={set} />}

      {!known && <p className="field-error">Unknown grader type {type}: edit it in the JSON tab.</p>}

      <div className="inline-form">
        <button type="button" onClick={() => void runCheck()}>
          {type === "cel" ? "Check expression" : "Check"}
        </button>
        {check && (
          <span role={check.ok ? "status" : "alert"} className={check.ok ? "check-ok" : "field-error"}>
            {check.text}
          </span>
        )}
      </div>
    </fieldset>
  );
}

type Message = { role: string; content: string };

function JudgeFields({ grader, set }: { grader: Grader; set: (key: string, value: unknown) => void }) {
  const messages = (Array.isArray(grader.input) ? grader.input : []) as Message[];
  const system = messages.find((m) => m.role === "system" || m.role === "developer")?.content ?? "";
  const user = messages.find((m) => m.role === "user")?.content ?? "";
  const setMessages = (nextSystem: string, nextUser: string) =>
    set("input", [
      { role: "system", content: nextSystem },
      { role: "user", content: nextUser },
    ]);
  const list = (key: string) => (Array.isArray(grader[key]) ? (grader[key] as string[]).join(", ") : "");
  const splitList = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const range = (Array.isArray(grader.range) ? grader.range : [0, 1]) as number[];
  return (
    <>
      <div className="grader-row">
        <Field label="Judge model">
          <input aria-label="Judge model" value={typeof grader.model === "string" ? grader.model : ""} onChange={(e) => set("model", e.target.value)} />
        </Field>
        <Field label="Provider" hint="Empty: the workspace default">
          <input
            aria-label="Judge provider"
            value={typeof grader.provider === "string" ? grader.provider : ""}
            onChange={(e) => set("provider", e.target.value || undefined)}
          />
        </Field>
        {grader.type === "score_model" ? (
          <Field label="Score range">
            <span className="range-pair">
              <input aria-label="Lowest score" type="number" value={range[0]} onChange={(e) => set("range", [Number(e.target.value), range[1]])} />
              <input aria-label="Highest score" type="number" value={range[1]} onChange={(e) => set("range", [range[0], Number(e.target.value)])} />
            </span>
          </Field>
        ) : null}
      </div>
      <Field label="Rubric" hint="What the judge is told to look for">
        <textarea aria-label="Rubric" rows={2} value={system} onChange={(e) => setMessages(e.target.value, user)} />
      </Field>
      <Field label="What the judge reads" hint="A template: {{ input }}, {{ output }}, {{ expected }}">
        <textarea aria-label="Judge message" rows={3} value={user} onChange={(e) => setMessages(system, e.target.value)} />
      </Field>
      {grader.type === "label_model" && (
        <div className="grader-row">
          <Field label="Labels" hint="Comma-separated">
            <input aria-label="Labels" value={list("labels")} onChange={(e) => set("labels", splitList(e.target.value))} />
          </Field>
          <Field label="Passing labels" hint="Some of the labels">
            <input aria-label="Passing labels" value={list("passing_labels")} onChange={(e) => set("passing_labels", splitList(e.target.value))} />
          </Field>
        </div>
      )}
    </>
  );
}

function MultiFields({ grader, set }: { grader: Grader; set: (key: string, value: unknown) => void }) {
  const subs = (grader.graders && typeof grader.graders === "object" ? grader.graders : {}) as Record<string, Grader>;
  const weights = (grader.weights && typeof grader.weights === "object" ? grader.weights : {}) as Record<string, number>;
  return (
    <>
      <div className="grader-row" aria-label="Weights">
        {Object.keys(subs).map((name) => (
          <Field key={name} label={`Weight of ${name}`}>
            <input
              aria-label={`Weight of ${name}`}
              type="number"
              min={0}
              step="0.5"
              value={weights[name] ?? 1}
              onChange={(e) => set("weights", { ...weights, [name]: Number(e.target.value) })}
            />
          </Field>
        ))}
      </div>
      <JsonField label="Combined graders (JSON: name → grader)" value={subs} onChange={(v) => set("graders", v)} rows={6} />
    </>
  );
}

/** A JSON value in a textarea: changes reach the grader only while the text parses. */
function JsonField({ label, value, onChange, rows }: { label: string; value: unknown; onChange: (v: unknown) => void; rows: number }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <Field label={label}>
      <textarea
        aria-label={label}
        className="code"
        rows={rows}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value));
            setError(null);
          } catch (err) {
            setError(`Not valid JSON yet: ${(err as Error).message}`);
          }
        }}
      />
      {error && <small className="field-error">{error}</small>}
    </Field>
  );
}
