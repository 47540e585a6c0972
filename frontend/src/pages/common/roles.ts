/** Role-aware UI: what the signed-in user may do in the selected workspace (the server still checks). */
import type { Role } from "../../api/types";
import { useWorkspace } from "../../shell/workspace";

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const roleAtLeast = (role: Role | undefined | null, minimum: Role): boolean =>
  !!role && RANK[role] >= RANK[minimum];

/** True when the current role is at least `minimum`. An unknown role offers nothing. */
export function useCan(minimum: Role): boolean {
  const { current } = useWorkspace();
  return roleAtLeast(current?.role, minimum);
}
