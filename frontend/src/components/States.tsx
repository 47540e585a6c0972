/** Loading, empty and error states used by every screen. */
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { errorMessage } from "../api/client";

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden /> {label}…
    </div>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong.</strong> {errorMessage(error)}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** A list query's loading, error (with a retry) and empty states; `children` draws the items once there are
 * some. `items` defaults to the query's data (pass a filtered list to show only part of it). */
export function ListStates<T>({
  query,
  items = query.data,
  loading,
  empty,
  children,
}: {
  query: UseQueryResult<T[]>;
  items?: T[];
  loading: string;
  empty: ReactNode;
  children: (items: T[]) => ReactNode;
}) {
  if (query.isLoading) return <Loading label={loading} />;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  if (!items?.length) return <>{empty}</>;
  return <>{children(items)}</>;
}
