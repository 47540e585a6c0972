import type { NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { NoteNode } from "./types";

/** Notes are sticky comments: no ports, never run. */
export const NoteNodeView = memo(function NoteNodeView({ id, data, selected }: NodeProps<NoteNode>) {
  return (
    <div className={`note${selected ? " selected" : ""}`} data-testid={`node-${id}`} aria-label={`Note ${data.name}`}>
      {data.config.text}
    </div>
  );
});
