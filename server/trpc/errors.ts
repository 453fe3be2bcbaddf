import { randomBytes } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { StorageUnavailableError } from '../../db/client';

/**
 * What callers may learn from an error, and nothing more. Validation problems are spelled out
 * (field by field); storage outages say so (503, the caller may retry); anything unexpected is
 * logged here with an id and answered with only that id — never a stack, SQL or a file path.
 */

/** One validation problem, in the API's error body (`error.data.issues`). */
export interface InputIssue {
  /** Dotted path of the field ("to", "argv.2"); "input" for the input as a whole. */
  path: string;
  message: string;
}

interface IssueLike {
  path?: readonly PropertyKey[] | readonly { key: PropertyKey }[];
  message: string;
  code?: string;
  expected?: string;
}

/** Zod errors and Standard Schema errors both carry `issues`; accept either. */
export function inputIssuesOf(cause: unknown): InputIssue[] | null {
  if (!cause || typeof cause !== 'object' || !('issues' in cause)) return null;
  const issues = (cause as { issues: unknown }).issues;
  if (!Array.isArray(issues)) return null;
  return (issues as IssueLike[]).map((issue) => ({ path: issuePath(issue), message: issueMessage(issue) }));
}

/** Zod says "Invalid input: expected string, received undefined" for a missing field: say "required". */
function issueMessage(issue: IssueLike): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return issue.expected ? `required (${issue.expected})` : 'required';
  }
  return issue.message;
}

function issuePath(issue: IssueLike): string {
  const segments = (issue.path ?? []).map((segment) =>
    typeof segment === 'object' && segment !== null && 'key' in segment ? segment.key : segment,
  );
  return segments.length === 0 ? 'input' : segments.map(String).join('.');
}

/** "invalid input: to: must not be before from; limit: at most 1000" */
export function describeInputIssues(issues: readonly InputIssue[]): string {
  return `invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
}

/**
 * An INTERNAL_SERVER_ERROR whose details were logged under `errorId`. Its message is safe to send;
 * the original error stays out of it (and out of `cause`, so no formatter can leak it).
 */
export class ReportedInternalError extends TRPCError {
  readonly errorId: string;
  constructor(errorId: string) {
    super({ code: 'INTERNAL_SERVER_ERROR', message: `internal error (id ${errorId}); the details are in the server log` });
    this.errorId = errorId;
  }
}

/** Logs an unexpected error with a short id an operator can grep for, and returns the id. */
export function logInternalError(error: unknown, where: string): string {
  const errorId = randomBytes(6).toString('hex');
  const original = error instanceof TRPCError && error.cause ? error.cause : error;
  console.error(`[api] internal error ${errorId} in ${where}:`, original);
  return errorId;
}

function findStorageError(error: unknown): StorageUnavailableError | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StorageUnavailableError) return e;
  }
  return null;
}

/**
 * Maps a procedure's failure to what the caller sees. Deliberate errors (NOT_FOUND, BAD_REQUEST, …)
 * pass unchanged; storage outages become SERVICE_UNAVAILABLE; anything else is logged and hidden.
 */
export function toPublicError(error: TRPCError, where: string): TRPCError {
  const storage = findStorageError(error);
  if (storage) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `storage unavailable: ${storage.message}` });
  }
  if (error.code !== 'INTERNAL_SERVER_ERROR' || error instanceof ReportedInternalError) return error;
  return new ReportedInternalError(logInternalError(error, where));
}
