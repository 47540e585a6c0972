import { ExpressionInput } from "../../fields/ExpressionInput";
import { Field } from "../../fields/Field";
import type { PanelProps } from "../panelTypes";
import type { UserApprovalNode } from "./types";

export function UserApprovalPanel({ node, update }: PanelProps<UserApprovalNode>) {
  const c = node.data.config;
  return (
    <>
      <Field nodeId={node.id} field="message" label="Message to the approver">
        <ExpressionInput nodeId={node.id} label="Approval message" mode="template" rows={3} value={c.message ?? ""} onChange={(message) => update({ message })} />
      </Field>
      <Field nodeId={node.id} field="approvers" label="Who may approve (minimum role)">
        <select aria-label="Approvers" value={c.approvers ?? "editor"} onChange={(e) => update({ approvers: e.target.value })}>
          <option>editor</option>
          <option>admin</option>
          <option>owner</option>
          <option value="visitor">visitor (the chat visitor decides in the chat)</option>
        </select>
      </Field>
    </>
  );
}
