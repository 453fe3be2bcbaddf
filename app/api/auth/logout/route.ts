import { logoutHandler } from '@/server/auth/web';
import { apiRoute } from '@/server/http/handler';

/** Sign-out of this session, or of every session of the user with `{ "everywhere": true }`. */
export const POST = apiRoute(logoutHandler(), { maxBodyBytes: 1024, where: 'api/auth/logout' });
