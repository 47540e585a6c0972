/** A collapsible, copyable JSON block for step inputs, outputs and errors. */
import { useState } from "react";

export function JsonView({ value, label, open = true }: { value: unknown; label: string; open?: boolean }) {
  const [copied, setCopied] = useState(false);
  const text = value === undefined ? "—" : JSON.stringify(value, null, 2);
  return (
    <details className="json-view" open={open}>
      <summary>
        <span>{label}</span>
        <button
          type="button"
          className="link-btn small-text"
          aria-label={`Copy ${label}`}
          onClick={(e) => {
            e.preventDefault();
            void navigator.clipboard?.writeText(text).then(() => {
              setCopied(true);
              window.setTimeout(() => setCopied(false), 1200);
            });
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </summary>
      <pre className="code" aria-label={label}>
        {text}
      </pre>
    </details>
  );
}
