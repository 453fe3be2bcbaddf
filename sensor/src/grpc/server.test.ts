import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBatch, SensorStatus, WatchRequest, type SensorClient } from '../../gen/soc/sensor/v1/sensor';
import { Journal } from '../stream/journal';
import { syntheticEvents } from '../testing/synthetic';
import { ensureCerts, type CertResult } from '../tls/certs';
import { readTlsMaterial } from '../tls/material';
import { createSensorClient } from './client';
import { startSensorServer, type SensorBackend, type SensorServerHandle, type TlsMaterial } from './server';

// The transport over real mTLS on loopback, with certificates made by the certs module.
// Events are synthetic: these tests are about seqs, resume, TLS and limits, not what is observed.

let dir: string;
let certs: CertResult;
let otherCa: CertResult;
let sensorTls: TlsMaterial;
let cockpitTls: TlsMaterial;
let journal: Journal;
let server: SensorServerHandle;
let address: string;

function backendOf(j: Journal): SensorBackend {
  return {
    watch: (options) => j.subscribeEncoded(options),
    status: () => SensorStatus.fromPartial({ sensor: j.sensor, epoch: j.epoch, mode: 'live', lastSeq: String(j.stats().lastSeq) }),
  };
}

/** Reads n batches from a Watch call, or rejects with the call's error. */
function watchBatches(client: SensorClient, request: Partial<WatchRequest>, n: number): Promise<EventBatch[]> {
  return new Promise((resolve, reject) => {
    const call = client.watch(WatchRequest.fromPartial(request));
    const batches: EventBatch[] = [];
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`timeout after ${batches.length} of ${n} batches`));
    }, 5000);
    call.on('data', (b: EventBatch) => {
      batches.push(b);
      if (batches.length === n) {
        clearTimeout(timer);
        call.cancel();
        resolve(batches);
      }
    });
    call.on('error', (err: ServiceError) => {
      clearTimeout(timer);
      if (err.code !== GrpcStatus.CANCELLED) reject(err);
    });
  });
}

/** Sends raw request bytes to Watch with a generic client and returns the final status. */
function rawWatch(tls: TlsMaterial, body: Buffer): Promise<{ code: number; details: string; messages: number }> {
  const client = new Client(address, credentials.createSsl(tls.ca, tls.key, tls.cert));
  return new Promise((resolve) => {
    let messages = 0;
    const call = client.makeServerStreamRequest(
      '/soc.sensor.v1.Sensor/Watch',
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new Metadata(),
      {},
    );
    call.on('data', () => messages++);
    call.on('error', (err: ServiceError) => {
      client.close();
      resolve({ code: err.code, details: err.details, messages });
    });
    call.on('end', () => {
      client.close();
      resolve({ code: GrpcStatus.OK, details: '', messages });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soc-grpc-test-'));
  certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  otherCa = await ensureCerts({ outDir: path.join(dir, 'other-pki') });
  sensorTls = readTlsMaterial({ ca: certs.files.ca, cert: certs.files.sensorCert, key: certs.files.sensorKey });
  cockpitTls = readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey });
  journal = new Journal({ sensor: 'node-a', maxBatchEvents: 100, maxBatchDelayMs: 5 });
  journal.append(syntheticEvents(250));
  journal.flush();
  server = await startSensorServer({ backend: backendOf(journal), listen: 'localhost:0', tls: sensorTls });
  address = `localhost:${server.port}`;
});

afterAll(async () => {
  await server?.close(500);
  journal?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Sensor gRPC over mTLS', () => {
  it('streams batches from the start and resumes after a seq', async () => {
    const client = createSensorClient(address, cockpitTls);
    try {
      const all = await watchBatches(client, {}, 3);
      expect(all.map((b) => `${b.firstSeq}-${b.lastSeq}`)).toEqual(['1-100', '101-200', '201-250']);
      expect(all[0]).toMatchObject({ sensor: 'node-a', epoch: journal.epoch, gap: false });
      const resumed = await watchBatches(client, { epoch: journal.epoch, sinceSeq: '200' }, 1);
      expect(resumed[0]).toMatchObject({ firstSeq: '201', lastSeq: '250', gap: false });
      expect(resumed[0]!.events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => String(201 + i)));
    } finally {
      client.close();
    }
  });

  it('delivers new events to an open stream', async () => {
    const client = createSensorClient(address, cockpitTls);
    try {
      const pending = watchBatches(client, { epoch: journal.epoch, sinceSeq: String(journal.stats().lastSeq) }, 1);
      setTimeout(() => journal.append(syntheticEvents(3, { fromIndex: 1000 })), 50);
      const [batch] = await pending;
      expect(batch!.events).toHaveLength(3);
      expect(Number(batch!.firstSeq)).toBe(journal.stats().lastSeq - 2);
    } finally {
      client.close();
    }
  });

  it('marks the local process behind a Watch stream as own (the cockpit on this node)', async () => {
    const marked: number[][] = [];
    const peers: string[] = [];
    const own = await startSensorServer({
      backend: { ...backendOf(journal), markOwn: (tgids) => marked.push(tgids) },
      listen: 'localhost:0',
      tls: sensorTls,
      findPeer: (peer) => {
        peers.push(peer);
        return { pid: process.pid, pids: [process.pid], inode: '1' };
      },
    });
    const client = createSensorClient(`localhost:${own.port}`, cockpitTls);
    try {
      await watchBatches(client, {}, 1);
      expect(peers).toHaveLength(1);
      expect(peers[0]).toMatch(/^(ipv[46]:)?(\d|\[)/);
      expect(marked).toEqual([[process.pid]]);
    } finally {
      client.close();
      await own.close(500);
    }
  });

  it('finds this very process behind a loopback Watch with the real /proc lookup', async () => {
    if (process.platform !== 'linux') return;
    const marked: number[][] = [];
    const own = await startSensorServer({ backend: { ...backendOf(journal), markOwn: (tgids) => marked.push(tgids) }, listen: 'localhost:0', tls: sensorTls });
    const client = createSensorClient(`localhost:${own.port}`, cockpitTls);
    try {
      await watchBatches(client, {}, 1);
      expect(marked).toEqual([[process.pid]]);
    } finally {
      client.close();
      await own.close(500);
    }
  });

  it('answers Status', async () => {
    const client = createSensorClient(address, cockpitTls);
    try {
      const st = await new Promise<SensorStatus>((resolve, reject) => client.status({}, (err, res) => (err ? reject(err) : resolve(res))));
      expect(st).toMatchObject({ sensor: 'node-a', epoch: journal.epoch, mode: 'live' });
    } finally {
      client.close();
    }
  });

  it('refuses a client without a certificate', async () => {
    const client = new Client(address, credentials.createSsl(cockpitTls.ca));
    try {
      const err = await new Promise<ServiceError>((resolve) => {
        client.makeUnaryRequest(
          '/soc.sensor.v1.Sensor/Status',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (e) => resolve(e as ServiceError),
        );
      });
      expect(err?.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it.each([
    ['whose certificate another CA signed', () => ({ cert: otherCa.files.cockpitCert, key: otherCa.files.cockpitKey })],
    ['presenting the sensor certificate (server auth only)', () => ({ cert: certs.files.sensorCert, key: certs.files.sensorKey })],
  ])('refuses a client %s', async (_what, pair) => {
    const client = createSensorClient(address, readTlsMaterial({ ca: certs.files.ca, ...pair() }));
    try {
      await expect(watchBatches(client, {}, 1)).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    } finally {
      client.close();
    }
  });

  it('answers garbage bytes with an error status and keeps serving', async () => {
    // Field 1 (string) declaring a 2^28-byte length in a 6-byte message: cannot be decoded.
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01]);
    const res = await rawWatch(cockpitTls, garbage);
    expect(res.code).toBe(GrpcStatus.INTERNAL);
    expect(res.details).toMatch(/deserializ/i);
    expect(res.messages).toBe(0);
    const client = createSensorClient(address, cockpitTls);
    try {
      expect(await watchBatches(client, {}, 1)).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('refuses an oversized request and keeps serving', async () => {
    const big = Buffer.from(WatchRequest.encode(WatchRequest.fromPartial({ epoch: 'x'.repeat(10_000) })).finish());
    const res = await rawWatch(cockpitTls, big);
    expect(res.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const client = createSensorClient(address, cockpitTls);
    try {
      expect(await watchBatches(client, {}, 1)).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('refuses a well-formed but invalid request with INVALID_ARGUMENT', async () => {
    const client = createSensorClient(address, cockpitTls);
    try {
      await expect(watchBatches(client, { epoch: 'e'.repeat(200) }, 1)).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
      await expect(watchBatches(client, { maxBatchEvents: 1_000_000 }, 1)).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
      });
    } finally {
      client.close();
    }
  });
});

describe('Sensor gRPC backpressure and shutdown', () => {
  it('lets a paused client fall behind without buffering for it, then gives it a gap', async () => {
    const j = new Journal({ sensor: 'node-b', maxBatchEvents: 200, maxBatchDelayMs: 0, retainEvents: 2000 });
    const srv = await startSensorServer({ backend: backendOf(j), listen: 'localhost:0', tls: sensorTls });
    const client = createSensorClient(`localhost:${srv.port}`, cockpitTls);
    try {
      const call = client.watch(WatchRequest.fromPartial({}));
      const received: EventBatch[] = [];
      call.on('data', (b: EventBatch) => received.push(b));
      call.on('error', () => {});
      j.append(syntheticEvents(200));
      await waitFor(() => received.length === 1);
      call.pause();
      // 200k events (~25 MB encoded) while the client reads nothing.
      for (let i = 0; i < 1000; i++) {
        j.append(syntheticEvents(200, { fromIndex: 200 + i * 200 }));
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(j.stats().heldEvents).toBeLessThanOrEqual(2000);
      call.resume();
      await waitFor(() => received.some((b) => b.gap));
      const gapBatch = received.find((b) => b.gap)!;
      const before = received[received.indexOf(gapBatch) - 1]!;
      expect(Number(gapBatch.missing)).toBe(Number(gapBatch.firstSeq) - Number(before.lastSeq) - 1);
      // What the transport buffered for the paused client is a handful of batches, not the backlog.
      expect(received.filter((b) => !b.gap && Number(b.firstSeq) > 1).length).toBeLessThan(60);
      await waitFor(() => received.at(-1)?.lastSeq === String(j.stats().lastSeq));
      call.cancel();
    } finally {
      client.close();
      await srv.close(500);
      j.close();
    }
  }, 30_000);

  it('ends open streams with UNAVAILABLE on close', async () => {
    const j = new Journal({ sensor: 'node-c', maxBatchDelayMs: 0 });
    const srv = await startSensorServer({ backend: backendOf(j), listen: 'localhost:0', tls: sensorTls });
    const client = createSensorClient(`localhost:${srv.port}`, cockpitTls);
    try {
      const call = client.watch(WatchRequest.fromPartial({}));
      const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve));
      call.on('data', () => {});
      await waitFor(() => srv.activeStreams() === 1);
      await srv.close(500);
      expect((await ended).code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      client.close();
      j.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
