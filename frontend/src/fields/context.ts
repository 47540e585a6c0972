/**
 * What node cards and inspector fields read about the graph they sit in: its nodes and edges (for the names
 * in scope), the validation issues and the run status of each node. The editor provides its own store; the
 * read-only graph views provide a store of fixed values. Cards and fields never import the editor.
 */
import { createContext, useContext } from "react";
import { createStore, useStore, type StoreApi } from "zustand";
import type { StepStatus } from "../api/events";
import type { ValidationIssue } from "../api/types";
import type { AppEdge, AppNode } from "../nodes/types";

export interface NodeViewState {
  nodes: AppNode[];
  edges: AppEdge[];
  issuesByNode: Record<string, ValidationIssue[]>;
  nodeStatus: Record<string, StepStatus>;
}

/** Read-only on purpose: cards and fields change the graph through the panel's `update`, never here. */
export type NodeViewStore = Pick<StoreApi<NodeViewState>, "getState" | "getInitialState" | "subscribe">;

export const NodeViewContext = createContext<NodeViewStore | null>(null);

export function useNodeViewStore(): NodeViewStore {
  const store = useContext(NodeViewContext);
  if (!store) throw new Error("useNodeView outside <NodeViewContext>");
  return store;
}

/** Select narrowly: pass a selector (wrap object results in useShallow). */
export function useNodeView<T>(selector: (s: NodeViewState) => T): T {
  return useStore(useNodeViewStore(), selector);
}

/** A store for a graph nobody edits (no issues); its owner sets the run status per node. */
export function createReadOnlyNodeView(): StoreApi<NodeViewState> {
  return createStore<NodeViewState>()(() => ({ nodes: [], edges: [], issuesByNode: {}, nodeStatus: {} }));
}
