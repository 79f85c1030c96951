// The producer of the claim-throughput benchmark (bench/claim-throughput.ts), in its own
// process: creates tasks (or graphile-worker jobs) at a paced rate for a fixed time. Every
// tick (a 1 ms timer) it issues the creates that are due by then (rate × elapsed), without
// waiting for the earlier ones, up to `maxInFlight` unsettled at once: past that it falls
// behind, and says by how much. For each task it records its id, the moment its create was
// called and the moment the create resolved (its commit acknowledged), on the clock the
// processes share (performance.timeOrigin + performance.now()), and writes them to `outFile`
// as JSON at the end. A create that fails is counted and reported, never retried.
import { writeFileSync } from 'node:fs';
import { openStore } from '../src/index.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ProducerReport {
  /** [id, create called, create resolved] per task that was created. */
  tasks: [string, number, number][];
  /** When pacing began and when the last create was issued (the window's end). */
  startedAt: number;
  windowEndAt: number;
  /** When the last create resolved. */
  settledAt: number;
  /** Creates due in the window that were never issued: the producer could not keep up. */
  notIssued: number;
  /** Creates that rejected, and the first few messages. */
  errors: number;
  errorSamples: string[];
  /** The producer process's CPU (user + system) over the window and its settling, in µs. */
  cpuUs: number;
}

const [system, target, rateArg, durationArg, outFile, inFlightArg] = process.argv.slice(2) as [string, string, string, string, string, string];
const rate = Number(rateArg);
const durationMs = Number(durationArg);
const maxInFlight = Number(inFlightArg);

let create: () => Promise<string>;
let close: () => Promise<void>;
if (system === 'graphile-worker') {
  const { makeWorkerUtils } = await import('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: target });
  create = async () => String((await utils.addJob('bench', {})).id);
  close = async () => {
    await utils.release();
  };
} else {
  const store = await openStore(target.startsWith('postgres') ? { url: target } : { path: target, readers: 1 });
  create = async () => (await store.tasks.create({ prompt: 'bench', inputData: {} })).id;
  close = () => store.close();
}
process.stdout.write('ready\n');
// The parent's agents are parked by now; a moment more for the connections to settle.
await sleep(300);

const tasks: [string, number, number][] = [];
const errorSamples: string[] = [];
let errors = 0;
let issued = 0;
let inFlight = 0;
const pending = new Set<Promise<void>>();
const cpu = process.cpuUsage();
const startedAt = now();
let windowEndAt = startedAt;
for (;;) {
  const elapsed = now() - startedAt;
  const due = Math.floor((Math.min(elapsed, durationMs) * rate) / 1000);
  while (issued < due && inFlight < maxInFlight) {
    issued++;
    inFlight++;
    windowEndAt = now();
    const sent = windowEndAt;
    const p: Promise<void> = create().then(
      (id) => void tasks.push([id, sent, now()]),
      (error: unknown) => {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
      },
    ).finally(() => {
      inFlight--;
      pending.delete(p);
    });
    pending.add(p);
  }
  if (elapsed >= durationMs) break;
  await sleep(1);
}
const notIssued = Math.floor((durationMs * rate) / 1000) - issued;
while (pending.size > 0) await Promise.all(pending);
const settledAt = now();
const used = process.cpuUsage(cpu);
await close();
const report: ProducerReport = { tasks, startedAt, windowEndAt, settledAt, notIssued, errors, errorSamples, cpuUs: used.user + used.system };
writeFileSync(outFile, JSON.stringify(report));
process.stdout.write('done\n');
