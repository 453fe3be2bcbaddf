import {
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  SensorService,
  type CancelZoomRequest,
  type ListZoomsRequest,
  type ListZoomsResponse,
  type SensorStatus,
  type StatusRequest,
  type WatchRequest,
  type Zoom,
  type ZoomRequest,
} from '../../gen/soc/sensor/v1/sensor';
import { silentLogger, type Logger } from '../log';
import { findPeerProcess, type PeerProcess } from '../own/peer';
import type { EncodedBatch, SubscribeOptions } from '../stream/journal';

/** Who sent a zoom order, as the TLS layer says (not as the order claims). */
export interface ZoomCallContext {
  clientSubject: string;
  /** when the call arrived: process.hrtime.bigint() (monotonic; for the attach latency) */
  receivedHr: bigint;
}

/** An order the backend refused: the gRPC status code and the reason. */
export interface CodedError extends Error {
  code: GrpcStatus;
}

/**
 * What the gRPC service serves: a stream of batches (live journal or replay), a status and, on a
 * live sensor, zoom-in orders (without them, orders are refused with FAILED_PRECONDITION).
 */
export interface SensorBackend {
  watch(options: SubscribeOptions): AsyncIterable<EncodedBatch>;
  status(): SensorStatus;
  /**
   * Marks local processes as the sensor's own (live mode). The server calls it with the process
   * behind each Watch stream when that process runs on this node: the cockpit, whose activity
   * must never raise indicators.
   */
  markOwn?(tgids: number[]): void;
  zoomIn?(request: ZoomRequest, ctx: ZoomCallContext): Promise<Zoom>;
  cancelZoom?(request: CancelZoomRequest, ctx: ZoomCallContext): Promise<Zoom>;
  listZooms?(request: ListZoomsRequest): Zoom[];
}

/** PEM contents (not paths): the CA that signs trusted clients, and the sensor's own pair. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface SensorServerOptions {
  backend: SensorBackend;
  /** host:port; port 0 picks a free one (see the returned handle). */
  listen: string;
  tls: TlsMaterial;
  logger?: Logger;
  /** Requests are tiny (a WatchRequest is < 200 bytes): anything larger is refused. */
  maxRequestBytes?: number;
  /** Largest batch message the server will send (default 32 MiB). */
  maxSendBytes?: number;
  /** Finds the local process behind a gRPC peer (default findPeerProcess; tests inject one). */
  findPeer?: (peer: string) => PeerProcess | null;
}

export interface SensorServerHandle {
  /** The bound port (useful with port 0). */
  port: number;
  /** Streams currently open. */
  activeStreams(): number;
  /** Ends open Watch streams with UNAVAILABLE, then shuts the server down (forcibly after graceMs). */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_MAX_REQUEST_BYTES = 4096;
export const DEFAULT_MAX_SEND_BYTES = 32 << 20;
const MAX_EPOCH_LENGTH = 128;
const MAX_BATCH_EVENTS_LIMIT = 65_536;

/**
 * The Sensor service with batches written as already-encoded bytes: each event was encoded once
 * when it entered the journal, and every subscriber shares those bytes.
 */
const WireSensorService = {
  ...SensorService,
  watch: { ...SensorService.watch, responseSerialize: (bytes: Buffer): Buffer => bytes },
} as unknown as ServiceDefinition;

/**
 * Starts the gRPC server with mTLS both ways: a client must present a certificate signed by
 * `tls.ca`, or the TLS handshake fails before any call is made.
 */
export async function startSensorServer(options: SensorServerOptions): Promise<SensorServerHandle> {
  const log = options.logger ?? silentLogger;
  const server = new Server({
    'grpc.max_receive_message_length': options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    'grpc.max_send_message_length': options.maxSendBytes ?? DEFAULT_MAX_SEND_BYTES,
    // Detects cockpits that vanished without closing (half-open TCP) so their streams end.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  const active = new Set<ServerWritableStream<WatchRequest, Buffer>>();

  const findPeer = options.findPeer ?? ((peer: string) => findPeerProcess(peer));
  const watch = (call: ServerWritableStream<WatchRequest, Buffer>) => {
    markPeerOwn(call, options.backend, findPeer, log);
    void serveWatch(call, options.backend, active, log);
  };
  const statusHandler = (_call: ServerUnaryCall<StatusRequest, SensorStatus>, callback: sendUnaryData<SensorStatus>) => {
    try {
      callback(null, options.backend.status());
    } catch (err) {
      callback({ code: GrpcStatus.INTERNAL, details: `status failed: ${errorMessage(err)}` });
    }
  };
  const backend = options.backend;
  const noZoom = (what: string) => ({
    code: GrpcStatus.FAILED_PRECONDITION,
    details: `${what}: this sensor has no kernel side (it serves a recording): zoom-in needs a live sensor`,
  });
  const zoomCall =
    <Req, Res>(what: string, run: ((req: Req, ctx: ZoomCallContext) => Promise<Res>) | undefined) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const ctx: ZoomCallContext = { clientSubject: clientSubject(call), receivedHr: process.hrtime.bigint() };
      if (!run) return callback(noZoom(what));
      run(call.request, ctx).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const coded = err as Partial<CodedError>;
          const code = typeof coded.code === 'number' ? coded.code : GrpcStatus.INTERNAL;
          log.warn(`${what} refused`, { peer: `${ctx.clientSubject}@${call.getPeer()}`, code: GrpcStatus[code], reason: errorMessage(err) });
          callback({ code, details: errorMessage(err) });
        },
      );
    };
  const zoomIn = zoomCall<ZoomRequest, Zoom>('ZoomIn', backend.zoomIn?.bind(backend));
  const cancelZoom = zoomCall<CancelZoomRequest, Zoom>('CancelZoom', backend.cancelZoom?.bind(backend));
  const listZooms = (call: ServerUnaryCall<ListZoomsRequest, ListZoomsResponse>, callback: sendUnaryData<ListZoomsResponse>) => {
    if (!backend.listZooms) return callback(null, { zooms: [] });
    try {
      callback(null, { zooms: backend.listZooms(call.request) });
    } catch (err) {
      callback({ code: GrpcStatus.INTERNAL, details: `list failed: ${errorMessage(err)}` });
    }
  };
  server.addService(WireSensorService, { watch, status: statusHandler, zoomIn, cancelZoom, listZooms } as UntypedServiceImplementation);

  const credentials = ServerCredentials.createSsl(
    options.tls.ca,
    [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, credentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
  });
  log.info('listening', { listen: options.listen, port, tls: 'mutual' });

  let closing: Promise<void> | null = null;
  return {
    port,
    activeStreams: () => active.size,
    close(graceMs = 2000) {
      closing ??= (async () => {
        for (const call of active) endWithStatus(call, GrpcStatus.UNAVAILABLE, 'sensor shutting down');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, graceMs);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        log.info('server stopped', { port });
      })();
      return closing;
    },
  };
}

async function serveWatch(
  call: ServerWritableStream<WatchRequest, Buffer>,
  backend: SensorBackend,
  active: Set<ServerWritableStream<WatchRequest, Buffer>>,
  log: Logger,
): Promise<void> {
  const peer = describePeer(call);
  const request = call.request;
  const invalid = validateWatchRequest(request);
  if (invalid) {
    log.warn('watch refused', { peer, reason: invalid });
    endWithStatus(call, GrpcStatus.INVALID_ARGUMENT, invalid);
    return;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
  active.add(call);
  // Headers right away: the client knows the stream is established before the first batch.
  call.sendMetadata(new Metadata());
  log.info('watch started', { peer, epoch: request.epoch, sinceSeq: request.sinceSeq, maxBatchEvents: request.maxBatchEvents });
  let batches = 0;
  try {
    for await (const batch of backend.watch({
      epoch: request.epoch,
      sinceSeq: request.sinceSeq,
      maxBatchEvents: request.maxBatchEvents,
      signal: abort.signal,
    })) {
      if (abort.signal.aborted) break;
      batches++;
      // Backpressure: when the transport's buffer is full, stop pulling from the journal until it
      // drains. The journal does not queue for us, so a slow client costs no sensor memory; if it
      // falls out of the retention window it gets a gap batch.
      if (!call.write(batch.bytes)) await drained(call, abort.signal);
    }
    if (!abort.signal.aborted) call.end();
  } catch (err) {
    log.error('watch failed', { peer, error: errorMessage(err) });
    endWithStatus(call, GrpcStatus.INTERNAL, `watch failed: ${errorMessage(err)}`);
  } finally {
    active.delete(call);
    log.info('watch ended', { peer, batches, cancelled: call.cancelled });
  }
}

/**
 * A cockpit on this node watching us is our own activity: its process (found from the TCP peer
 * in /proc) is marked before the first batch is sent. A remote or unresolvable peer is left alone.
 */
function markPeerOwn(
  call: ServerWritableStream<WatchRequest, Buffer>,
  backend: SensorBackend,
  findPeer: (peer: string) => PeerProcess | null,
  log: Logger,
): void {
  if (!backend.markOwn) return;
  const peer = call.getPeer();
  try {
    const found = findPeer(peer);
    if (found) backend.markOwn(found.pids);
  } catch (err) {
    log.warn('cannot mark the peer process as own', { peer, error: errorMessage(err) });
  }
}

/** Returns why a WatchRequest cannot be served, or null. */
export function validateWatchRequest(request: WatchRequest): string | null {
  if (request.epoch.length > MAX_EPOCH_LENGTH) return `epoch longer than ${MAX_EPOCH_LENGTH} characters`;
  if (!/^[\x21-\x7e]*$/.test(request.epoch)) return 'epoch must be printable ASCII without spaces';
  if (!/^\d{1,20}$/.test(request.sinceSeq) || !Number.isSafeInteger(Number(request.sinceSeq))) {
    return `since_seq out of range: ${request.sinceSeq.slice(0, 24)}`;
  }
  if (request.maxBatchEvents > MAX_BATCH_EVENTS_LIMIT) return `max_batch_events above ${MAX_BATCH_EVENTS_LIMIT}`;
  return null;
}

function endWithStatus(call: ServerWritableStream<WatchRequest, Buffer>, code: GrpcStatus, details: string): void {
  if (call.cancelled || call.writableEnded) return;
  // grpc-js turns an 'error' on a server stream into the call's status.
  call.emit('error', { code, details });
}

function drained(call: ServerWritableStream<WatchRequest, Buffer>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The client certificate's subject as "CN=…, O=…" (what the CA vouched for). */
function clientSubject(call: ServerUnaryCall<unknown, unknown>): string {
  const subject = call.getAuthContext()?.sslPeerCertificate?.subject as Record<string, string | string[]> | undefined;
  if (!subject) return '';
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

function describePeer(call: ServerWritableStream<WatchRequest, Buffer>): string {
  const subject = call.getAuthContext()?.sslPeerCertificate?.subject as { CN?: string } | undefined;
  return `${subject?.CN ?? '?'}@${call.getPeer()}`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
