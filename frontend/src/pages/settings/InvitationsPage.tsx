/** Pending invitations of the workspace: invite by email with a role (link shown once), list, revoke. */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { inviteMember, listInvitations, revokeInvitation } from "../../api/team";
import type { Role } from "../../api/types";
import { CreateForm } from "../../components/CreateForm";
import { ListTable } from "../../components/ListTable";
import { Empty, ListStates } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { useWorkspaceList } from "../../shell/workspace";
import { useCan } from "../common/roles";
import { formatTime } from "../common/status";
import "../screens.css";

const ROLE_HELP: Record<string, string> = {
  viewer: "reads workflows and runs",
  editor: "builds, publishes, runs, manages triggers",
  admin: "also members, secrets and providers",
};

export default function InvitationsPage() {
  const isAdmin = useCan("admin");
  const { list, refresh } = useWorkspaceList("invitations", listInvitations, isAdmin);
  // The role stays as chosen for the next invitation.
  const [role, setRole] = useState<Role>("viewer");
  const invite = useCreateForm({ email: "" }, (f) => inviteMember(f.email.trim(), role), refresh);
  const revoke = useMutation({ mutationFn: revokeInvitation, onSettled: refresh });
  const sent = invite.mutation.data;
  if (!isAdmin) return <Empty title="Only admins manage invitations">Ask an admin or owner of this workspace to invite people.</Empty>;
  return (
    <div className="settings-panel">
      <CreateForm label="Invite someone" button="Invite" form={invite}>
        <label>
          Email
          <input type="email" required value={invite.values.email} onChange={(e) => invite.set("email", e.target.value)} placeholder="colleague@example.com" />
        </label>
        <label>
          Role
          <select aria-label="Invitation role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {(["viewer", "editor", "admin"] as Role[]).map((r) => (
              <option key={r} value={r}>
                {r} — {ROLE_HELP[r]}
              </option>
            ))}
          </select>
        </label>
      </CreateForm>
      {sent?.link && (
        <div className="secret-once" role="status" aria-label="Invitation link">
          <strong>Send this link to {sent.email}. It is shown only now.</strong>
          <code>{sent.link}</code>
          <span className="muted small-text">They sign up or sign in with it and join as {sent.role}. It expires {formatTime(sent.expires_at)}.</span>
        </div>
      )}
      {revoke.isError && <p className="field-error">{errorMessage(revoke.error)}</p>}
      <ListStates query={list} loading="Loading invitations" empty={<Empty title="No pending invitations">Invited people appear here until they accept.</Empty>}>
        {(invitations) => (
          <ListTable label="Pending invitations" columns={["Email", "Role", "Invited by", "Expires"]}>
            {invitations.map((i) => (
              <tr key={i.id}>
                <td>{i.email}</td>
                <td>{i.role}</td>
                <td className="muted">{i.invited_by ?? "—"}</td>
                <td className="muted">{formatTime(i.expires_at)}</td>
                <td>
                  <button type="button" className="danger-link" onClick={() => revoke.mutate(i.id)} aria-label={`Revoke the invitation of ${i.email}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </ListStates>
    </div>
  );
}
