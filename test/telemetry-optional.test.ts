import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { packageRoot } from '../src/paths.js';
import { InstrumentedEngine, inSpan, instrument } from '../src/telemetry/instrument.js';
import { engineOf } from '../src/store.js';
import { openTestStore } from './helpers/store.js';
import { tempDir } from './helpers/temp.js';

// OpenTelemetry's API is an optional peer dependency: nothing loads it statically, a
// process that cannot load it opens stores as before, and with the API but no SDK the
// calls make no spans.

describe('OpenTelemetry as an optional peer dependency', () => {
  it('is loaded by one dynamic import, in the telemetry module only', () => {
    const built = readFileSync(join(packageRoot, 'dist', 'src', 'telemetry', 'instrument.js'), 'utf8');
    expect(built).toMatch(/import\(\s*['"]@opentelemetry\/api['"]\s*\)/);
    expect(built).not.toMatch(/^\s*import\s[^(]*['"]@opentelemetry\//m);
  });

  it('is not needed to open a store, write and read, in a process that cannot load it', () => {
    const fixture = join(packageRoot, 'test', 'fixtures', 'store-without-langgraph.mjs');
    const deny = join(packageRoot, 'test', 'fixtures', 'deny-opentelemetry.mjs');
    const out = execFileSync(process.execPath, ['--import', deny, fixture, join(tempDir(), 'no-otel.db')], { cwd: packageRoot, encoding: 'utf8' });
    expect((JSON.parse(out) as { value: number }).value).toBe(42);
    // The block works: loading the API under it fails.
    const probe = execFileSync(
      process.execPath,
      ['--import', deny, '--input-type=module', '-e', "import('@opentelemetry/api').then(() => console.log('loaded'), (e) => console.log(e.message))"],
      { cwd: packageRoot, encoding: 'utf8' },
    );
    expect(probe.trim()).toBe('blocked by the test: @opentelemetry/api');
  });

  it('instruments a store only where telemetry is on, and spans nothing without an SDK', async () => {
    const store = await openTestStore();
    const engine = engineOf(store);
    expect(engine).toBeInstanceOf(InstrumentedEngine);
    const session = await store.sessions.create({ appName: 'app', userId: 'u' });
    expect(await inSpan(engine, 'adapter.method', () => store.sessions.get(session.id))).toMatchObject({ id: session.id });
    const quiet = await openTestStore({ telemetry: false });
    expect(engineOf(quiet)).not.toBeInstanceOf(InstrumentedEngine);
    expect(await instrument(engineOf(quiet), false)).toBe(engineOf(quiet));
    // An engine that is not instrumented runs the adapter's method as it is.
    expect(await inSpan(engineOf(quiet), 'adapter.method', () => Promise.resolve(7))).toBe(7);
  });

  it('spans the calls made after an SDK is registered, on a store opened before it', async () => {
    const store = await openTestStore();
    const session = await store.sessions.create({ appName: 'app', userId: 'u' });
    await store.sessions.get(session.id);
    const spans = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
    try {
      expect(spans.getFinishedSpans()).toEqual([]);
      await store.sessions.get(session.id);
      expect(spans.getFinishedSpans().map((span) => span.name)).toEqual(['sessions.get']);
    } finally {
      trace.disable();
    }
  });
});
