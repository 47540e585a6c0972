/** Loads the node catalog (GET /api/v1/node-types) once, before anything that draws or edits nodes renders. */
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { listNodeTypes } from "../api/workflows";
import { ErrorState, Loading } from "../components/States";
import { setNodeTypes } from "./registry";

export function NodeTypesGate({ children }: { children: ReactNode }) {
  const q = useQuery({
    queryKey: ["node-types"],
    queryFn: async () => {
      const list = await listNodeTypes();
      setNodeTypes(list);
      return list;
    },
    staleTime: Infinity,
  });
  if (q.isLoading) return <Loading label="Loading node types" />;
  if (q.error) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  return <>{children}</>;
}
