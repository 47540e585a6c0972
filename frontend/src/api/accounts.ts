/** Accounts API: the current user, workspaces, members, tokens, secrets. */
import { api, unwrapList } from "./client";
import type { ApiToken, CallbackSecretInfo, Me, Member, Role, SecretInfo, Workspace } from "./types";

export const getMe = () => api<Me>("GET", "me");
export const listWorkspaces = async () => unwrapList(await api<Workspace[] | { results: Workspace[] }>("GET", "workspaces"));
export const createWorkspace = (name: string) => api<Workspace>("POST", "workspaces", { name });

// Members, invitations, tokens and secrets belong to the selected workspace (the X-Trellis-Workspace header).
export const listMembers = async () => unwrapList(await api<Member[] | { results: Member[] }>("GET", "members"));
export const changeMemberRole = (memberId: string | number, role: Role) => api<Member>("PATCH", `members/${memberId}`, { role });
export const removeMember = (memberId: string | number) => api<void>("DELETE", `members/${memberId}`);
export const createInvitation = (email: string, role: Role) =>
  api<{ link?: string; url?: string }>("POST", "invitations", { email, role });

export const listTokens = async () => unwrapList(await api<ApiToken[] | { results: ApiToken[] }>("GET", "tokens"));
export const createToken = (name: string) => api<ApiToken>("POST", "tokens", { name });
export const revokeToken = (id: string | number) => api<void>("DELETE", `tokens/${id}`);

export const listSecrets = async () => unwrapList(await api<SecretInfo[] | { results: SecretInfo[] }>("GET", "secrets"));
export const setSecret = (name: string, value: string) => api<SecretInfo>("POST", "secrets", { name, value });
export const replaceSecret = (id: string, value: string) => api<SecretInfo>("PUT", `secrets/${id}`, { value });
export const deleteSecret = (id: string) => api<void>("DELETE", `secrets/${id}`);

// The secret that signs callbacks of API-started runs: returned only by the rotate call.
export const getCallbackSecret = () => api<CallbackSecretInfo>("GET", "workspace/callback-secret");
export const rotateCallbackSecret = () => api<CallbackSecretInfo>("POST", "workspace/callback-secret/rotate");
