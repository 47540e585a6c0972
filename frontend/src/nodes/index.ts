/**
 * The per-type maps the editor uses: canvas cards (`canvasNodeTypes()`) and inspector panels (`panelTypes`).
 * A type's custom card is `nodes/<type>/node.tsx` and its panel `nodes/<type>/panel.tsx` (each exporting one
 * component), found here by file name, so adding a folder is all it takes; every other catalog type gets the
 * generic card and the panel built from its schema (GenericNode.tsx).
 */
import type { NodeTypes } from "@xyflow/react";
import type { ComponentType } from "react";
import { GenericNodeView, GenericPanel } from "./GenericNode";
import type { PanelProps } from "./panelTypes";
import { nodeTypeList } from "./registry";
import type { AppNode } from "./types";

/** `./<type>/<file>.tsx` -> type -> the module's one export. */
function byFolder<T>(modules: Record<string, Record<string, unknown>>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(modules).map(([path, module]) => [path.split("/")[1], Object.values(module)[0] as T]),
  );
}

const customNodeTypes = byFolder<NodeTypes[string]>(import.meta.glob("./*/node.tsx", { eager: true }));

export const panelTypes: Record<string, ComponentType<PanelProps<AppNode>>> = byFolder(
  import.meta.glob("./*/panel.tsx", { eager: true }),
);

let cached: NodeTypes | undefined;

/** React Flow's node types: the custom cards, and the generic one for the rest of the catalog. Built once the
 * catalog is loaded (NodeTypesGate) and kept, since React Flow wants the same object on every render. */
export function canvasNodeTypes(): NodeTypes {
  if (!cached || nodeTypeList().some((t) => !(t.type in cached!))) {
    const generic = Object.fromEntries(nodeTypeList().map((t) => [t.type, GenericNodeView]));
    cached = { ...generic, ...customNodeTypes } as NodeTypes;
  }
  return cached;
}

export { GenericPanel };
