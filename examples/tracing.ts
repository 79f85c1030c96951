// The store inside your traces: with OpenTelemetry's SDK registered, every store call is
// a span under whatever span is active in your code (here a "turn"), named after the call
// (`sessions.appendEvent`), with the database conventions' attributes and the store's own
// (time queued, batch size, rows and bytes returned); a failed call carries its error
// code. Spans go to the console exporter, then a summary of the tree is printed.
//
// Register the SDK before openStore: the store takes its meter when it opens.
//
// Run it: npm run build && node dist/examples/tracing.js
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, ConsoleSpanExporter, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, StoreError } from 'abathur-store';

const kept = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter()), new SimpleSpanProcessor(kept)],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);

const dir = mkdtempSync(join(tmpdir(), 'abathur-example-'));
const store = await openStore({ path: join(dir, 'traced.db') });
try {
  // Your own span: the store's calls made inside it become its children.
  await trace.getTracer('my-orchestrator').startActiveSpan('turn', async (turn) => {
    const session = await store.sessions.create({ appName: 'traced', userId: 'alice' });
    await store.sessions.appendEvent(session.id, { role: 'user', text: 'hello' });
    await store.sessions.appendEvent(session.id, { role: 'assistant', text: 'hi, Alice' });
    await store.sessions.events(session.id);
    try {
      await store.sessions.appendEvent('no-such-session', { role: 'user', text: 'lost' });
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'NOT_FOUND')) throw error;
    }
    turn.end();
  });
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

// The tree the exporter received, one line per store span (read before shutdown, which
// empties the in-memory exporter).
const spans = kept.getFinishedSpans();
const turn = spans.find((span) => span.name === 'turn')!;
console.log(`turn: ${spans.filter((span) => span.parentSpanContext?.spanId === turn.spanContext().spanId).length} store calls under it`);
for (const span of spans.filter((s) => s !== turn)) {
  const a = span.attributes;
  const outcome = a['error.type'] === undefined ? `${String(a['db.response.returned_rows'])} row(s)` : `error ${String(a['error.type'])}`;
  console.log(`  ${span.name} on ${String(a['db.system.name'])}: ${outcome}`);
}
await provider.shutdown();
