/** Members of the selected workspace: list, change role, remove, invite by link. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { changeMemberRole, createInvitation, listMembers, removeMember } from "../../api/accounts";
import { errorMessage } from "../../api/client";
import type { Member, Role } from "../../api/types";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";

const ROLES: Role[] = ["viewer", "editor", "admin", "owner"];
const memberKey = (m: Member) => m.id ?? m.user_id ?? m.email;

export default function MembersPage() {
  const { current } = useWorkspace();
  const ws = current?.slug ?? "";
  const qc = useQueryClient();
  const members = useQuery({ queryKey: ["members", ws], queryFn: listMembers, enabled: !!ws });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["members", ws] });
  const role = useMutation({ mutationFn: (a: { m: Member; role: Role }) => changeMemberRole(memberKey(a.m), a.role), onSettled: refresh });
  const remove = useMutation({ mutationFn: (m: Member) => removeMember(memberKey(m)), onSettled: refresh });
  const [email, setEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<Role>("editor");
  const invite = useMutation({ mutationFn: () => createInvitation(email, inviteRole) });
  const canManage = current?.role === "owner" || current?.role === "admin" || !current?.role;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };

  if (!ws) return <Empty title="No workspace selected" />;
  if (members.isLoading) return <Loading label="Loading members" />;
  if (members.isError) return <ErrorState error={members.error} retry={() => void members.refetch()} />;
  const mutationError = role.error ?? remove.error;
  return (
    <div className="settings-panel">
      {!!mutationError && <p className="field-error" role="alert">{errorMessage(mutationError)}</p>}
      <table className="table" aria-label="Members">
        <thead>
          <tr>
            <th>Email</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {members.data?.map((m) => (
            <tr key={String(memberKey(m))}>
              <td>{m.email}</td>
              <td>
                <select
                  aria-label={`Role of ${m.email}`}
                  value={m.role}
                  disabled={!canManage}
                  onChange={(e) => role.mutate({ m, role: e.target.value as Role })}
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
              <td>
                {canManage && (
                  <button type="button" className="danger-link" onClick={() => remove.mutate(m)} aria-label={`Remove ${m.email}`}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {canManage && (
        <form className="form inline-form" onSubmit={submit} aria-label="Invite a member">
          <h2>Invite</h2>
          <label>
            Email
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Role
            <select value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
              {ROLES.filter((r) => r !== "owner").map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={invite.isPending}>
            Create invitation link
          </button>
          {invite.isError && <p className="field-error">{errorMessage(invite.error)}</p>}
          {invite.data && (
            <p className="notice">
              Send this link: <code>{invite.data.link ?? invite.data.url}</code>
            </p>
          )}
        </form>
      )}
    </div>
  );
}
