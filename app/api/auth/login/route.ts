import { loginHandler } from '@/server/auth/web';
import { apiRoute } from '@/server/http/handler';

/** Password sign-in (JSON). See docs/SECURITY.md: backoff, lockout, audit. */
export const POST = apiRoute(loginHandler(), { maxBodyBytes: 8 * 1024, where: 'api/auth/login' });
