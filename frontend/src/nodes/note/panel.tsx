import { Field } from "../../fields/Field";
import type { PanelProps } from "../panelTypes";
import type { NoteNode } from "./types";

export function NotePanel({ node, update }: PanelProps<NoteNode>) {
  return (
    <Field nodeId={node.id} field="text" label="Text">
      <textarea aria-label="Note text" rows={6} value={node.data.config.text ?? ""} onChange={(e) => update({ text: e.target.value })} />
    </Field>
  );
}
