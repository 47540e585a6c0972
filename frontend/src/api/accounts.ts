/** Accounts API: the current user, workspaces, members, tokens, secrets. */
import { api, unwrapList } from "./client";
import type { ApiToken, Me, Member, Role, SecretInfo, Workspace } from "./types";

export const getMe = () => api<Me>("GET", "me");
export const listWorkspaces = async () => unwrapList(await api<Workspace[] | { results: Workspace[] }>("GET", "workspaces"));
export const createWorkspace = (name: string) => api<Workspace>("POST", "workspaces", { name });

export const listMembers = async (ws: string) =>
  unwrapList(await api<Member[] | { results: Member[] }>("GET", `workspaces/${ws}/members`));
export const changeMemberRole = (ws: string, memberId: string | number, role: Role) =>
  api<Member>("PATCH", `workspaces/${ws}/members/${memberId}`, { role });
export const removeMember = (ws: string, memberId: string | number) =>
  api<void>("DELETE", `workspaces/${ws}/members/${memberId}`);
export const createInvitation = (ws: string, email: string, role: Role) =>
  api<{ url?: string; link?: string; token?: string }>("POST", `workspaces/${ws}/invitations`, { email, role });

export const listTokens = async () => unwrapList(await api<ApiToken[] | { results: ApiToken[] }>("GET", "tokens"));
export const createToken = (name: string) => api<ApiToken>("POST", "tokens", { name });
export const revokeToken = (id: string | number) => api<void>("DELETE", `tokens/${id}`);

export const listSecrets = async () => unwrapList(await api<SecretInfo[] | { results: SecretInfo[] }>("GET", "secrets"));
export const setSecret = (name: string, value: string) => api<SecretInfo>("POST", "secrets", { name, value });
export const deleteSecret = (name: string) => api<void>("DELETE", `secrets/${encodeURIComponent(name)}`);
