/**
 * The cockpit's tRPC API over plain HTTP (no transformer: JSON in, JSON out), as the scenario
 * reads it: queries are GETs with the input in the query string, mutations POSTs with a JSON body.
 * `send` does the HTTP (fetch with a bearer token in the runner, Playwright's request context with
 * a session cookie in the e2e test).
 */
export type Send = (method: 'GET' | 'POST', url: string, body?: unknown) => Promise<{ status: number; json: unknown }>;

export class CockpitApi {
  constructor(private readonly send: Send) {}

  async query<T>(procedure: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.result<T>(procedure, await this.send('GET', `/api/trpc/${procedure}${qs}`));
  }

  async mutate<T>(procedure: string, input: unknown): Promise<T> {
    return this.result<T>(procedure, await this.send('POST', `/api/trpc/${procedure}`, input));
  }

  private result<T>(procedure: string, response: { status: number; json: unknown }): T {
    const body = response.json as { result?: { data: T }; error?: { message?: string } } | null;
    if (response.status !== 200 || !body?.result) {
      throw new Error(`${procedure}: HTTP ${response.status}: ${body?.error?.message ?? JSON.stringify(body)}`);
    }
    return body.result.data;
  }
}

/** A Send over fetch with an API token (`soc_pat_…`). */
export function tokenSend(baseUrl: string, token: string): Send {
  return async (method, url, body) => {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = { error: { message: text.slice(0, 500) } };
    }
    return { status: response.status, json };
  };
}

/** What the scenario reads of the API (the fields it uses). */
export interface BaselineSummary {
  workload: string;
  status: 'learning' | 'completed';
}

export interface IndicatorSummary {
  id: string;
  kind: string;
  value: string;
  severity: string;
  workload: string;
  execId: string;
  node: string;
  sentence: string;
}

export interface InvestigationSummary {
  id: string;
  title: string;
  indicatorIds: string[];
  execId: string;
  node: string;
  workload: string;
  zooms: number;
}

export interface DestinationSummary {
  address: string;
  port: number;
  service: string | null;
  contacts: number;
  intervalMedianMs: number | null;
  payloadFormat: string;
}
