/** The table of a settings list: a header per column, a last column for the row's actions, then the rows. */
import type { ReactNode } from "react";

export function ListTable({ label, columns, children }: { label: string; columns: string[]; children: ReactNode }) {
  return (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
          <th />
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
