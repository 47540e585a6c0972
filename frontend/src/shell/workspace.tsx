/** The signed-in user and the selected workspace; the API client sends its slug on every request. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { getMe, listWorkspaces } from "../api/accounts";
import { setWorkspace } from "../api/client";
import type { Me, Workspace } from "../api/types";

const STORAGE_KEY = "trellis.workspace";

interface WorkspaceContextValue {
  me: Me | undefined;
  workspaces: Workspace[];
  current: Workspace | null;
  loading: boolean;
  error: unknown;
  select: (slug: string) => void;
}

const WorkspaceContext = createContext<WorkspaceContextValue | null>(null);

export function WorkspaceProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const me = useQuery({ queryKey: ["me"], queryFn: getMe });
  const list = useQuery({
    queryKey: ["workspaces"],
    queryFn: listWorkspaces,
    enabled: me.isSuccess && !me.data?.workspaces,
  });
  const workspaces = useMemo(() => me.data?.workspaces ?? list.data ?? [], [me.data, list.data]);
  const [slug, setSlug] = useState<string | null>(() => localStorage.getItem(STORAGE_KEY));
  const current = workspaces.find((w) => w.slug === slug) ?? workspaces[0] ?? null;
  // Set synchronously so that the first queries of the page already carry the header.
  setWorkspace(current?.slug ?? null);

  const select = useCallback(
    (next: string) => {
      localStorage.setItem(STORAGE_KEY, next);
      setWorkspace(next);
      setSlug(next);
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "me" && q.queryKey[0] !== "workspaces" });
    },
    [queryClient],
  );

  const value = useMemo(
    () => ({
      me: me.data,
      workspaces,
      current,
      loading: me.isLoading || list.isLoading,
      error: me.error ?? list.error,
      select,
    }),
    [me.data, workspaces, current, me.isLoading, list.isLoading, me.error, list.error, select],
  );
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

export function useWorkspace(): WorkspaceContextValue {
  const ctx = useContext(WorkspaceContext);
  if (!ctx) throw new Error("useWorkspace outside <WorkspaceProvider>");
  return ctx;
}

/** A list that belongs to the selected workspace, cached per workspace; `refresh` refetches it. */
export function useWorkspaceList<T>(key: string, fetch: () => Promise<T[]>, enabled = true) {
  const { current } = useWorkspace();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: [key, current?.slug], queryFn: fetch, enabled: !!current && enabled });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: [key] });
  return { list, refresh };
}
