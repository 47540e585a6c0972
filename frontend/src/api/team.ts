/** Team API additions: pending invitations and model providers (with a connection test). */
import { api } from "./client";
import type { InvitationInfo, ProviderInfo, ProviderTestResult } from "./screens";
import type { Role } from "./types";

export const listInvitations = () => api<InvitationInfo[]>("GET", "invitations");
export const inviteMember = (email: string, role: Role) => api<InvitationInfo>("POST", "invitations", { email, role });
export const revokeInvitation = (id: string) => api<void>("DELETE", `invitations/${id}`);

export interface ProviderInput {
  name: string;
  base_url?: string;
  api_style?: string;
  models?: string[];
  api_key?: string;
  is_default?: boolean;
}

export const listProviders = () => api<ProviderInfo[]>("GET", "providers");
export const createProvider = (body: ProviderInput) => api<ProviderInfo>("POST", "providers", body);
export const updateProvider = (id: number, body: Partial<ProviderInput>) => api<ProviderInfo>("PATCH", `providers/${id}`, body);
export const deleteProvider = (id: number) => api<void>("DELETE", `providers/${id}`);
export const testProvider = (id: number) => api<ProviderTestResult>("POST", `providers/${id}/test`, {});
