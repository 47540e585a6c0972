/** Picks a workspace secret by name for a credential field; values never reach the browser. */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { listSecrets } from "../api/accounts";

export function SecretPicker({
  value,
  onChange,
  label,
}: {
  value: string | null | undefined;
  onChange: (name: string | null) => void;
  label: string;
}) {
  const secrets = useQuery({ queryKey: ["secrets"], queryFn: listSecrets, retry: 0 });
  const names = secrets.data?.map((s) => s.name) ?? [];
  const current = value ?? "";
  return (
    <div className="secret-picker">
      <select aria-label={label} value={current} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">— none —</option>
        {current && !names.includes(current) && <option value={current}>{current} (missing)</option>}
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      {secrets.isSuccess && !names.length && (
        <span className="field-hint">
          No secrets yet — <Link to="/settings/secrets">add one</Link>.
        </span>
      )}
    </div>
  );
}
