import { KeyValueExpressions } from "../../fields/KeyValueExpressions";
import type { PanelProps } from "../panelTypes";
import type { TransformNode } from "./types";

export function TransformPanel({ node, update }: PanelProps<TransformNode>) {
  return <KeyValueExpressions nodeId={node.id} field="output" label="Output" value={node.data.config.output ?? {}} onChange={(output) => update({ output })} />;
}
