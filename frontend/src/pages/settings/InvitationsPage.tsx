/** Pending invitations of the workspace: invite by email with a role (link shown once), list, revoke. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import { inviteMember, listInvitations, revokeInvitation } from "../../api/team";
import type { Role } from "../../api/types";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { useCan } from "../common/roles";
import { formatTime } from "../common/status";
import "../screens.css";

const ROLE_HELP: Record<string, string> = {
  viewer: "reads workflows and runs",
  editor: "builds, publishes, runs, manages triggers",
  admin: "also members, secrets and providers",
};

export default function InvitationsPage() {
  const { current } = useWorkspace();
  const isAdmin = useCan("admin");
  const qc = useQueryClient();
  const invitations = useQuery({ queryKey: ["invitations", current?.slug], queryFn: listInvitations, enabled: !!current && isAdmin });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const invite = useMutation({
    mutationFn: () => inviteMember(email.trim(), role),
    onSuccess: () => {
      setEmail("");
      void qc.invalidateQueries({ queryKey: ["invitations"] });
    },
  });
  const revoke = useMutation({ mutationFn: revokeInvitation, onSettled: () => void qc.invalidateQueries({ queryKey: ["invitations"] }) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  if (!isAdmin) return <Empty title="Only admins manage invitations">Ask an admin or owner of this workspace to invite people.</Empty>;
  return (
    <div className="settings-panel">
      <form className="form inline-form" onSubmit={submit} aria-label="Invite someone">
        <label>
          Email
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="colleague@example.com" />
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
        <button type="submit" className="primary" disabled={invite.isPending}>
          Invite
        </button>
      </form>
      {invite.isError && <p className="field-error">{errorMessage(invite.error)}</p>}
      {invite.data?.link && (
        <div className="secret-once" role="status" aria-label="Invitation link">
          <strong>Send this link to {invite.data.email}. It is shown only now.</strong>
          <code>{invite.data.link}</code>
          <span className="muted small-text">They sign up or sign in with it and join as {invite.data.role}. It expires {formatTime(invite.data.expires_at)}.</span>
        </div>
      )}
      {revoke.isError && <p className="field-error">{errorMessage(revoke.error)}</p>}
      {invitations.isLoading ? (
        <Loading label="Loading invitations" />
      ) : invitations.isError ? (
        <ErrorState error={invitations.error} retry={() => void invitations.refetch()} />
      ) : !invitations.data?.length ? (
        <Empty title="No pending invitations">Invited people appear here until they accept.</Empty>
      ) : (
        <table className="table" aria-label="Pending invitations">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Invited by</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {invitations.data.map((i) => (
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
          </tbody>
        </table>
      )}
    </div>
  );
}
