import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import { clip, NodeCard } from "../NodeCard";
import type { HttpRequestNode } from "./types";

export const HttpRequestNodeView = memo(function HttpRequestNodeView({ id, type, data, selected }: NodeProps<HttpRequestNode>) {
  return <NodeCard node={{ id, type, data } as HttpRequestNode} selected={!!selected} summary={`${data.config.method} ${clip(data.config.url, 36)}`} />;
});
