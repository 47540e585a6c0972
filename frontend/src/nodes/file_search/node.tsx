import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { NodeCard } from "../NodeCard";
import type { FileSearchNode } from "./types";

export const FileSearchNodeView = memo(function FileSearchNodeView({ id, type, data, selected }: NodeProps<FileSearchNode>) {
  return <NodeCard node={{ id, type, data } as FileSearchNode} selected={!!selected} summary={`${data.config.knowledge_base || "(no knowledge base)"} · top ${data.config.top_k ?? 5}`} />;
});
