import type { ChangeListener, ChangeSubscription } from '../api/change-feed.js';
import type * as Otel from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { toStoreError } from '../api/errors.js';
import type { BackupResult, CheckReport, StoreStats } from '../api/types.js';
import type { ArgsOf, CallTrace, OperationRef, ResultOf, StoreEngine } from '../api/engine.js';

import { resultSize } from './result-size.js';

/** The instrumentation scope's name: what a span's and a metric's `otel.scope.name` says. */
export const SCOPE = 'abathur-store';

type Api = typeof Otel;

/**
 * Loads `@opentelemetry/api`, the optional peer dependency; `undefined` where it is not
 * installed, so a project without OpenTelemetry loads nothing and pays nothing.
 */
export async function loadOpenTelemetry(): Promise<Api | undefined> {
  try {
    return await import('@opentelemetry/api');
  } catch {
    return undefined;
  }
}

/**
 * An engine whose calls are OpenTelemetry spans and metrics. Each call is a CLIENT span
 * named after its operation (`sessions.appendEvent`), a child of the caller's active
 * context, with the database conventions' attributes and the store's own: time queued,
 * batch size, rows and bytes returned. A failed call records its `StoreError` code as
 * `error.type` and the span's error status. The meter's figures are `stats()`'s, read when
 * the meter collects, plus a duration histogram recorded as each call settles.
 *
 * With no SDK registered the tracer would make non-recording spans and the meter is a
 * no-op: then a call makes no span, and costs one check more than the bare engine. An SDK
 * registered after the store opened is seen by the next call.
 */
export class InstrumentedEngine implements StoreEngine {
  readonly #inner: StoreEngine;
  readonly #api: Api;
  readonly #tracer: Otel.Tracer;
  /** The API's own provider while no SDK has been seen registered: it says when one is. */
  #proxy: Otel.ProxyTracerProvider | undefined;
  readonly #system: string;
  readonly #namespace: string;
  readonly #spanOptions = new Map<string, Otel.SpanOptions>();
  readonly #duration: Otel.Histogram | undefined;
  readonly #durationAttributes = new Map<string, Otel.Attributes>();
  readonly #meter: Otel.Meter | undefined;
  readonly #observe: Otel.BatchObservableCallback | undefined;
  readonly #observables: Otel.Observable[] = [];
  #closing: Promise<void> | undefined;

  constructor(inner: StoreEngine, api: Api) {
    this.#inner = inner;
    this.#api = api;
    this.#tracer = api.trace.getTracer(SCOPE);
    const provider = api.trace.getTracerProvider();
    this.#proxy = provider instanceof api.ProxyTracerProvider ? provider : undefined;
    this.#system = inner.kind === 'sqlite' ? 'sqlite' : 'postgresql';
    this.#namespace = namespaceOf(inner);
    // The metrics API has no proxy: a meter taken before an SDK is registered stays a
    // no-op. Taken here, at open, as the SDK's documentation asks (register it first).
    const meter = api.metrics.getMeter(SCOPE);
    if (meter.constructor !== api.createNoopMeter().constructor) {
      this.#meter = meter;
      this.#duration = meter.createHistogram('db.client.operation.duration', {
        description: 'Duration of store calls, from accepted to settled on the caller’s thread.',
        unit: 's',
        advice: { explicitBucketBoundaries: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] },
      });
      this.#observe = this.#observeStats(meter);
    }
  }

  /** The engine it instruments. */
  get inner(): StoreEngine {
    return this.#inner;
  }

  get kind(): StoreEngine['kind'] {
    return this.#inner.kind;
  }

  get location(): string {
    return this.#inner.location;
  }

  get options(): StoreEngine['options'] {
    return this.#inner.options;
  }

  call<O extends OperationRef>(operation: O, build: () => ArgsOf<O>, signal?: unknown): Promise<ResultOf<O>> {
    // No SDK registered yet and no meter: every span would be a no-op, so none is made
    // (a no-op span and the active context cost the caller's thread ~3% of a point read).
    if (this.#duration === undefined && this.#proxy !== undefined) {
      if (this.#proxy.getDelegateTracer(SCOPE) === undefined) return this.#inner.call(operation, build, signal);
      // An SDK registered: from now on the proxy's tracer delegates, and asking again each call would only repeat its lookup.
      this.#proxy = undefined;
    }
    const api = this.#api;
    const span = this.#tracer.startSpan(operation.name, this.#spanOptionsOf(operation.name), api.context.active());
    const recording = span.isRecording();
    if (!recording && this.#duration === undefined) return this.#inner.call(operation, build, signal);
    const start = performance.now();
    const trace: CallTrace | undefined = recording ? { sent: undefined, batch: 0 } : undefined;
    return this.#inner.call(operation, build, signal, trace).then(
      (value) => {
        this.#settled(operation.name, start, undefined);
        if (recording) this.#endSpan(span, start, trace!, value, undefined);
        return value;
      },
      (error: unknown) => {
        const code = toStoreError(error).code;
        this.#settled(operation.name, start, code);
        if (recording) this.#endSpan(span, start, trace!, undefined, error);
        throw error;
      },
    );
  }

  /**
   * Runs `fn` inside an INTERNAL span named `name` (an adapter's method, in its framework's
   * words: `checkpointer.put`), so the store calls it makes are its children.
   */
  span<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const api = this.#api;
    const parent = api.context.active();
    const span = this.#tracer.startSpan(name, { kind: api.SpanKind.INTERNAL }, parent);
    if (!span.isRecording()) return fn();
    return api.context.with(api.trace.setSpan(parent, span), fn).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failSpan(api, span, error);
        span.end();
        throw error;
      },
    );
  }

  watchChanges(listener: ChangeListener): ChangeSubscription {
    return this.#inner.watchChanges(listener);
  }

  check(): Promise<CheckReport> {
    return this.#inner.check();
  }

  backup(path: string, signal?: AbortSignal): Promise<BackupResult> {
    return this.#inner.backup(path, signal);
  }

  stats(): StoreStats {
    return this.#inner.stats();
  }

  resetStats(): void {
    this.#inner.resetStats();
  }

  /** The engine's close; the meter stops reading its stats once it is done. Same promise every time, as the engine's. */
  close(): Promise<void> {
    this.#closing ??= this.#inner.close().finally(() => {
      if (this.#observe !== undefined) this.#meter!.removeBatchObservableCallback(this.#observe, this.#observables);
    });
    return this.#closing;
  }

  #spanOptionsOf(name: string): Otel.SpanOptions {
    let options = this.#spanOptions.get(name);
    if (options === undefined) {
      options = {
        kind: this.#api.SpanKind.CLIENT,
        attributes: { 'db.system.name': this.#system, 'db.namespace': this.#namespace, 'db.operation.name': name },
      };
      this.#spanOptions.set(name, options);
    }
    return options;
  }

  #settled(name: string, start: number, code: string | undefined): void {
    if (this.#duration === undefined) return;
    const seconds = (performance.now() - start) / 1000;
    if (code === undefined) {
      let attributes = this.#durationAttributes.get(name);
      if (attributes === undefined) {
        attributes = { 'db.system.name': this.#system, 'db.operation.name': name };
        this.#durationAttributes.set(name, attributes);
      }
      this.#duration.record(seconds, attributes);
    } else {
      this.#duration.record(seconds, { 'db.system.name': this.#system, 'db.operation.name': name, 'error.type': code });
    }
  }

  #endSpan(span: Otel.Span, start: number, trace: CallTrace, value: unknown, error: unknown): void {
    if (trace.sent !== undefined) {
      span.setAttribute('abathur.queue.wait_ms', Math.round((trace.sent - start) * 1000) / 1000);
      span.setAttribute('abathur.batch.size', trace.batch);
    }
    if (error === undefined) {
      const size = resultSize(value);
      span.setAttribute('db.response.returned_rows', size.rows);
      span.setAttribute('abathur.response.bytes', size.bytes);
    } else {
      failSpan(this.#api, span, error);
    }
    span.end();
  }

  /** The figures `stats()` gives, as observable instruments read once per collection. */
  #observeStats(meter: Otel.Meter): Otel.BatchObservableCallback {
    const queue = meter.createObservableGauge('abathur.store.queue.depth', {
      description: 'Calls accepted and waiting for a thread (SQLite) or a connection (PostgreSQL).',
      unit: '{call}',
    });
    const batchMean = meter.createObservableGauge('abathur.store.batch.size', {
      description: 'Mean calls per reader message (read) and per commit (write) since the last resetStats().',
      unit: '{call}',
    });
    const batchMax = meter.createObservableGauge('abathur.store.batch.size.max', {
      description: 'Largest batch since the last resetStats().',
      unit: '{call}',
    });
    const wal = meter.createObservableGauge('abathur.store.wal.size', { description: 'The WAL file after the last commit (SQLite).', unit: 'By' });
    const restarts = meter.createObservableCounter('abathur.store.thread.restarts', {
      description: 'Threads started to replace ones that died (SQLite).',
      unit: '{thread}',
    });
    const connections = meter.createObservableUpDownCounter('db.client.connection.count', {
      description: 'Open connections of the pool, by state (PostgreSQL).',
      unit: '{connection}',
    });
    const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
      description: 'Calls waiting for a pooled connection (PostgreSQL).',
      unit: '{request}',
    });
    this.#observables.push(queue, batchMean, batchMax, wal, restarts, connections, pending);
    const system = this.#system;
    const callback: Otel.BatchObservableCallback = (result) => {
      const stats = this.#inner.stats();
      for (const kind of ['read', 'write'] as const) {
        const attributes = { 'db.system.name': system, 'abathur.queue': kind };
        result.observe(queue, stats.queues[kind], attributes);
        result.observe(batchMean, stats.batches[kind].mean, attributes);
        result.observe(batchMax, stats.batches[kind].max, attributes);
      }
      if (stats.engine === 'sqlite') {
        result.observe(wal, stats.wal.bytes, { 'db.system.name': system });
        result.observe(restarts, stats.restarts.readers, { 'db.system.name': system, 'abathur.thread': 'reader' });
        result.observe(restarts, stats.restarts.writer, { 'db.system.name': system, 'abathur.thread': 'writer' });
      }
      if (stats.pool !== undefined) {
        const used = stats.pool.total - stats.pool.idle;
        result.observe(connections, stats.pool.idle, { 'db.system.name': system, 'db.client.connection.state': 'idle' });
        result.observe(connections, used, { 'db.system.name': system, 'db.client.connection.state': 'used' });
        result.observe(pending, stats.pool.waiting, { 'db.system.name': system });
      }
    };
    meter.addBatchObservableCallback(callback, this.#observables);
    return callback;
  }
}

function failSpan(api: Api, span: Otel.Span, error: unknown): void {
  const storeError = toStoreError(error);
  span.setAttribute('error.type', storeError.code);
  span.recordException(storeError);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: storeError.message });
}

/** `db.namespace`: the database file, or the PostgreSQL database's name. */
function namespaceOf(engine: StoreEngine): string {
  if (engine.kind === 'sqlite') return engine.location;
  try {
    return decodeURIComponent(new URL(engine.location).pathname.slice(1)) || engine.location;
  } catch {
    return engine.location;
  }
}

/**
 * Runs `fn` in a span named `name` where the engine is instrumented, else just runs it:
 * the adapters' seam for spans in their framework's words.
 */
export function inSpan<T>(engine: StoreEngine, name: string, fn: () => Promise<T>): Promise<T> {
  return engine instanceof InstrumentedEngine ? engine.span(name, fn) : fn();
}

/** The engine to use: instrumented where OpenTelemetry's API is installed and telemetry is on. */
export async function instrument(engine: StoreEngine, enabled: boolean): Promise<StoreEngine> {
  if (!enabled) return engine;
  const api = await loadOpenTelemetry();
  return api === undefined ? engine : new InstrumentedEngine(engine, api);
}
