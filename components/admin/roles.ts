/** The roles, least privileged first, for the admin pages' pickers (server/auth/roles.ts is the source). */
export const ROLE_CHOICES = ['viewer', 'analyst', 'responder', 'admin'] as const;
export type RoleChoice = (typeof ROLE_CHOICES)[number];
