import { oidcCallbackHandler } from '@/server/auth/web';
import { apiRoute } from '@/server/http/handler';

/** Single sign-on: the provider redirects here with the authorization code. */
export const GET = apiRoute(oidcCallbackHandler(), { where: 'api/auth/oidc/callback' });
