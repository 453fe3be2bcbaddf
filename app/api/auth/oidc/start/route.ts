import { oidcStartHandler } from '@/server/auth/web';
import { apiRoute } from '@/server/http/handler';

/** Single sign-on: redirects to the OIDC provider (authorization code + PKCE). */
export const GET = apiRoute(oidcStartHandler(), { where: 'api/auth/oidc/start' });
