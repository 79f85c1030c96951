import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Store } from '../src/store.js';
import { describeEachEngine } from './helpers/engines.js';

/** A reader the test collects from when it wants, as the SDK's own tests do. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const spans = new InMemorySpanExporter();
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  metrics.setGlobalMeterProvider(meterProvider);
});

afterAll(async () => {
  await meterProvider.shutdown();
  trace.disable();
  metrics.disable();
  context.disable();
});

beforeEach(() => spans.reset());

const parentTracer = () => trace.getTracer('test');

/** The metrics collected now, by name. */
async function collected(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) out.set(metric.descriptor.name, metric);
  return out;
}

const finished = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((span) => span.name === name);

describeEachEngine(
  'telemetry',
  (engine) => {
    const system = engine.name === 'sqlite' ? 'sqlite' : 'postgresql';
    let store: Store;

    beforeEach(async () => {
      store = await engine.open();
    });

    it('makes each call a client span under the caller’s active span, with database and queue attributes', async () => {
      const session = await parentTracer().startActiveSpan('turn', async (turn) => {
        const created = await store.sessions.create({ appName: 'app', userId: 'u' });
        await store.sessions.appendEvent(created.id, { text: 'hello' });
        turn.end();
        return created;
      });
      const [turn] = finished('turn');
      const [create] = finished('sessions.create');
      const [append] = finished('sessions.appendEvent');
      expect(turn).toBeDefined();
      for (const span of [create!, append!]) {
        expect(span.parentSpanContext?.spanId).toBe(turn!.spanContext().spanId);
        expect(span.spanContext().traceId).toBe(turn!.spanContext().traceId);
        expect(span.kind).toBe(SpanKind.CLIENT);
        expect(span.attributes['db.system.name']).toBe(system);
        expect(span.attributes['db.operation.name']).toBe(span.name);
        expect(span.attributes['abathur.queue.wait_ms']).toBeGreaterThanOrEqual(0);
        expect(span.attributes['abathur.batch.size']).toBeGreaterThanOrEqual(1);
        expect(span.status.code).toBe(SpanStatusCode.UNSET);
      }
      expect(create!.attributes['db.namespace']).toBe(engine.name === 'sqlite' ? store.path : new URL(store.path).pathname.slice(1));
      expect(create!.attributes['db.response.returned_rows']).toBe(1);
      expect(create!.attributes['abathur.response.bytes']).toBeGreaterThan(session.id.length);

      const events = await store.sessions.events(session.id);
      expect(events.items).toHaveLength(1);
      const [read] = finished('sessions.events');
      expect(read!.parentSpanContext).toBeUndefined();
      expect(read!.attributes['db.response.returned_rows']).toBe(1);
    });

    it('records a failed call’s StoreError code as the span’s error', async () => {
      await expect(store.sessions.appendEvent('no-such-session', { text: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const [span] = finished('sessions.appendEvent');
      expect(span!.status.code).toBe(SpanStatusCode.ERROR);
      expect(span!.attributes['error.type']).toBe('NOT_FOUND');
      expect(span!.events.map((event) => event.name)).toContain('exception');

      // Refused before it was queued: still a span, never sent, so no queue attributes.
      await expect(store.sessions.appendEvent('', { text: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const refused = finished('sessions.appendEvent')[1]!;
      expect(refused.attributes['error.type']).toBe('INVALID_ARGUMENT');
      expect(refused.attributes['abathur.queue.wait_ms']).toBeUndefined();
    });

    it('meters call durations by operation and outcome, and the figures stats() gives', async () => {
      // The histogram is the process's, shared by every store: count what this test adds.
      const appends = (metric: Map<string, MetricData>, errorType: string | undefined): number => {
        const point = metric
          .get('db.client.operation.duration')
          ?.dataPoints.find(
            (p) =>
              p.attributes['db.operation.name'] === 'sessions.appendEvent' &&
              p.attributes['db.system.name'] === system &&
              p.attributes['error.type'] === errorType,
          );
        return point === undefined ? 0 : (point.value as { count: number }).count;
      };
      const before = await collected();
      const session = await store.sessions.create({ appName: 'app', userId: 'u' });
      for (let i = 0; i < 3; i++) await store.sessions.appendEvent(session.id, { i });
      await expect(store.sessions.appendEvent('no-such-session', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });

      const metric = await collected();
      expect(metric.get('db.client.operation.duration')!.descriptor.unit).toBe('s');
      expect(appends(metric, undefined) - appends(before, undefined)).toBe(3);
      expect(appends(metric, 'NOT_FOUND') - appends(before, 'NOT_FOUND')).toBe(1);

      const stats = store.stats();
      const ours = (name: string) =>
        metric.get(name)!.dataPoints.filter((point) => point.attributes['db.system.name'] === system);
      const writeQueue = ours('abathur.store.queue.depth').find((point) => point.attributes['abathur.queue'] === 'write')!;
      expect(writeQueue.value).toBe(stats.queues.write);
      const writeBatch = ours('abathur.store.batch.size').find((point) => point.attributes['abathur.queue'] === 'write')!;
      expect(writeBatch.value).toBe(stats.batches.write.mean);
      if (engine.name === 'sqlite') {
        expect(stats.wal.bytes).toBeGreaterThan(0);
        expect(ours('abathur.store.wal.size').map((point) => point.value)).toContain(stats.wal.bytes);
        expect(ours('abathur.store.thread.restarts').map((point) => point.attributes['abathur.thread']).sort()).toEqual(['reader', 'writer']);
      } else {
        const connections = ours('db.client.connection.count');
        const total = connections.reduce((sum, point) => sum + (point.value as number), 0);
        expect(total).toBe(stats.pool!.total);
      }
    });

    it('stays out of the way with telemetry: false', async () => {
      const quiet = await engine.open({ telemetry: false });
      await quiet.sessions.create({ appName: 'app', userId: 'u' });
      expect(finished('sessions.create')).toHaveLength(0);
    });
  },
  { threads: true },
);
