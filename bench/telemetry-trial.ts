// One trial of `bench --telemetry`, in a process of its own (an SDK, once registered, is
// the process's): point reads, then appends, from many callers at once, on one system:
//   before  the build given with --before (no telemetry in it), through its own openStore
//   off     this build with telemetry: false (the bare engine)
//   unused  this build with @opentelemetry/api loaded and no SDK registered
//   sdk     this build under a registered tracer and meter provider (spans to an exporter
//           that drops them, metrics kept by the SDK)
// Prints one JSON line: calls per second and CPU per call for each phase.
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore as ourOpenStore, type Store } from '../src/index.js';
import { cpuMeter, type CpuPerOp } from './cpu.js';

export type TelemetrySystem = 'before' | 'off' | 'unused' | 'sdk';

export interface TelemetryTrialConfig {
  system: TelemetrySystem;
  path: string;
  beforeApp?: string;
  readers: number;
  callers: number;
  durationMs: number;
}

export interface PhaseResult {
  calls: number;
  callsPerSecond: number;
  cpu: CpuPerOp;
}

export interface TelemetryTrialResult {
  system: TelemetrySystem;
  reads: PhaseResult;
  appends: PhaseResult;
  /** Spans the SDK ended and exported (0 without one): proof that the sdk system traced. */
  spans: number;
}

let exported = 0;

/** Counts and drops, at once: the SDK's own work is measured, not an exporter's. */
const dropping: SpanExporter = {
  export: (spans, done) => {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

async function phase(callers: number, durationMs: number, call: (caller: number, i: number) => Promise<unknown>): Promise<PhaseResult> {
  const meter = cpuMeter();
  const start = performance.now();
  const end = start + durationMs;
  let calls = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; performance.now() < end; i++) {
        await call(caller, i);
        calls++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { calls, callsPerSecond: calls / seconds, cpu: meter(calls) };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as TelemetryTrialConfig;
  let tracerProvider: BasicTracerProvider | undefined;
  if (config.system === 'sdk') {
    tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(new MeterProvider());
  }
  let open = ourOpenStore as (options: object) => Promise<Store>;
  if (config.system === 'before') {
    if (config.beforeApp === undefined) throw new Error('the before system needs --before DIR');
    ({ openStore: open } = (await import(pathToFileURL(join(config.beforeApp, 'dist', 'src', 'index.js')).href)) as { openStore: typeof open });
  }
  const store = await open({ path: config.path, readers: config.readers, maxQueue: 1_000_000, ...(config.system === 'off' ? { telemetry: false } : {}) });
  const ids: string[] = [];
  for (let c = 0; c < config.callers; c++) {
    const session = await store.sessions.create({ appName: 'bench', userId: `u${c % 8}`, state: { k: c } });
    ids.push(session.id);
  }
  const reads = await phase(config.callers, config.durationMs, (caller) => store.sessions.getState(ids[caller]!, 'k'));
  const appends = await phase(config.callers, config.durationMs, (caller, i) => store.sessions.appendEvent(ids[caller]!, { i, text: 'an event of a few dozen bytes' }));
  await store.close();
  await tracerProvider?.forceFlush();
  const result: TelemetryTrialResult = { system: config.system, reads, appends, spans: exported };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
