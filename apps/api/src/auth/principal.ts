import type { Role } from '@continuum/persistence';

/** Who is calling: the API key's id, role and the plants it may see (null: all). */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  plantIds: string[] | null;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` is at least `required` (viewer < operator < admin). */
export function hasRole(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/** True when the principal may see the plant. */
export function canSeePlant(principal: Principal, plantId: string): boolean {
  return principal.plantIds === null || principal.plantIds.includes(plantId);
}
