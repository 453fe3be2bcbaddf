import { TRPCError } from '@trpc/server';
import type { Db } from '../../db/client';
import { AccountError } from '../auth/accounts';
import type { AuthDeps } from '../auth/deps';
import type { TRPCContext } from './context';

/** The authentication dependencies of a procedure that has storage (`.use(withStorage)`). */
export function authDeps(ctx: TRPCContext & { db: Db }): AuthDeps {
  return { db: ctx.db, now: ctx.now, config: ctx.authConfig() };
}

/** Account rule violations (unknown user, duplicate email, last admin) as API errors. */
export async function asApiErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AccountError) throw new TRPCError({ code: error.code, message: error.message });
    if (error instanceof RangeError) throw new TRPCError({ code: 'BAD_REQUEST', message: error.message });
    throw error;
  }
}
