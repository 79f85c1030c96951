// The other process of the wake-up benchmark (bench/wakeups.ts): creates tasks (or
// graphile-worker jobs) one at a time, each carrying the moment it was sent on the clock
// both processes share (performance.timeOrigin + performance.now()), and spaces them so
// that each one meets a parked waiter. Prints "ready" when open, then for each one
// "ack <id> <time>" the moment its create resolved (its commit acknowledged, same clock), and
// "done" at the end.
import { openStore } from '../src/index.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const [system, target, countArg, gapArg] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countArg);
const gap = Number(gapArg);
// Lets the parent's waiter park first.
await sleep(200);

if (system === 'graphile-worker') {
  const { makeWorkerUtils } = await import('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: target });
  process.stdout.write('ready\n');
  await sleep(300);
  for (let i = 0; i < count; i++) {
    const job = await utils.addJob('bench', { sent: now() });
    process.stdout.write(`ack ${job.id} ${now()}\n`);
    await sleep(gap);
  }
  await utils.release();
} else {
  const store = await openStore(target.startsWith('postgres') ? { url: target } : { path: target, readers: 1 });
  process.stdout.write('ready\n');
  await sleep(300);
  for (let i = 0; i < count; i++) {
    const task = await store.tasks.create({ prompt: 'bench', inputData: { sent: now() } });
    process.stdout.write(`ack ${task.id} ${now()}\n`);
    await sleep(gap);
  }
  await store.close();
}
process.stdout.write('done\n');
