import { TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { StorageUnavailableError, type Db } from '../../db/client';
import { describeInputIssues, inputIssuesOf, ReportedInternalError, toPublicError } from './errors';
import { appRouter, createCaller } from './root';
import { testContext } from './testing';

// How failures reach callers, without storage: a fake context makes storage fail on purpose.
const EXEC_ID = 'node-a:0a1b2c3d:1005:101:3';

async function callOverHttp(ctx: ReturnType<typeof testContext>, procedure: string, input: unknown) {
  const response = await fetchRequestHandler({
    endpoint: '/api/trpc',
    req: new Request(`http://cockpit.test/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`),
    router: appRouter,
    createContext: () => ctx,
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

afterEach(() => vi.restoreAllMocks());

describe('input issues', () => {
  it('lists every field with its message, "input" for the whole input, and "required" for missing fields', () => {
    const schema = z.strictObject({ from: z.string(), to: z.string(), nested: z.object({ pid: z.number().max(10) }).optional() });
    const result = schema.safeParse({ from: 1, nested: { pid: 11 } });
    const issues = inputIssuesOf(result.error);
    expect(issues).toEqual([
      { path: 'from', message: 'Invalid input: expected string, received number' },
      { path: 'to', message: 'required (string)' },
      { path: 'nested.pid', message: 'Too big: expected number to be <=10' },
    ]);
    expect(describeInputIssues(issues!)).toBe(
      'invalid input: from: Invalid input: expected string, received number; to: required (string); nested.pid: Too big: expected number to be <=10',
    );
    expect(inputIssuesOf(z.object({}).safeParse(undefined).error)).toEqual([{ path: 'input', message: 'required (object)' }]);
    expect(inputIssuesOf(new Error('plain'))).toBeNull();
  });
});

describe('public errors', () => {
  it('passes deliberate errors through unchanged', () => {
    const notFound = new TRPCError({ code: 'NOT_FOUND', message: 'no process with exec id x' });
    expect(toPublicError(notFound, 'processes.get')).toBe(notFound);
  });

  it('turns a storage outage anywhere in the cause chain into SERVICE_UNAVAILABLE', () => {
    const wrapped = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new StorageUnavailableError('cannot reach ClickHouse at http://ch:8123: ECONNREFUSED') });
    expect(toPublicError(wrapped, 'p')).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'storage unavailable: cannot reach ClickHouse at http://ch:8123: ECONNREFUSED',
    });
  });

  it('logs anything unexpected under an id and answers only with that id', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const error = toPublicError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: new Error('Code: 62. SELECT secret') }), 'processes.search');
    expect(error).toBeInstanceOf(ReportedInternalError);
    const id = (error as ReportedInternalError).errorId;
    expect(error.message).toBe(`internal error (id ${id}); the details are in the server log`);
    expect(error.cause).toBeUndefined();
    expect(log).toHaveBeenCalledWith(`[api] internal error ${id} in processes.search:`, expect.objectContaining({ message: 'Code: 62. SELECT secret' }));
  });
});

describe('procedures', () => {
  it('all declare a scope of the form resource:action (the full check is the access matrix)', () => {
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { scope?: string } } }>);
    expect(procedures.length).toBeGreaterThanOrEqual(6);
    for (const [path, procedure] of procedures) {
      expect(procedure._def.meta?.scope, path).toMatch(/^[a-z]+:[a-z]+$/);
    }
  });

  it('refuse an anonymous caller with UNAUTHORIZED before looking at the input', async () => {
    const api = createCaller(testContext({ getDb: () => Promise.reject(new Error('storage must not be opened')) }));
    await expect(api.processes.get({ execId: 'not an exec id' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('report storage outages as SERVICE_UNAVAILABLE to in-process callers', async () => {
    const api = createCaller(testContext({ as: 'viewer', getDb: () => Promise.reject(new StorageUnavailableError('cannot open embedded ClickHouse (chDB) at data/chdb: locked')) }));
    await expect(api.processes.get({ execId: EXEC_ID })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'storage unavailable: cannot open embedded ClickHouse (chDB) at data/chdb: locked',
    });
  });
});

describe('errors over HTTP', () => {
  it('answers a storage outage with 503 and says so', async () => {
    const ctx = testContext({ as: 'viewer', getDb: () => Promise.reject(new StorageUnavailableError('cannot reach ClickHouse at http://ch:8123: ECONNREFUSED')) });
    const { status, body } = await callOverHttp(ctx, 'processes.get', { execId: EXEC_ID });
    expect(status).toBe(503);
    expect(body.error).toEqual({
      message: 'storage unavailable: cannot reach ClickHouse at http://ch:8123: ECONNREFUSED',
      code: -32603,
      data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, path: 'processes.get' },
    });
  });

  it('answers an unexpected failure with 500, a log id and nothing else: no SQL, no stack', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const failing = {
      client: {
        query: async () => {
          throw new Error('Code: 62. DB::Exception: Syntax error at SELECT exec_id FROM processes WHERE node = {node:String}');
        },
      },
    } as unknown as Db;
    const { status, body, text } = await callOverHttp(testContext({ as: 'viewer', db: failing }), 'processes.get', { execId: EXEC_ID });
    expect(status).toBe(500);
    expect(body.error.message).toMatch(/^internal error \(id [0-9a-f]{12}\); the details are in the server log$/);
    expect(body.error.data).toEqual({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'processes.get' });
    expect(text).not.toMatch(/SELECT|Syntax|stack|DB::Exception/);
    const id = /id ([0-9a-f]{12})/.exec(body.error.message)![1];
    expect(log).toHaveBeenCalledWith(`[api] internal error ${id} in processes.get:`, expect.any(Error));
  });

  it('answers validation before storage: 400 even while storage is down', async () => {
    const ctx = testContext({ as: 'viewer', getDb: () => Promise.reject(new StorageUnavailableError('down')) });
    const { status, body } = await callOverHttp(ctx, 'processes.search', { from: '5', to: '1' });
    expect(status).toBe(400);
    expect(body.error.message).toBe('invalid input: to: must not be before from');
  });
});
