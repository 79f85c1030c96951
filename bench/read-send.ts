// What sending a read batch to a reader costs the caller's thread (issue 22, item 4): the
// request of four getTuple calls (LangGraph's saver workload sends ~4 a batch) posted on a
// MessagePort, measured two ways:
//   alone     posted and taken back on this thread, no other thread to wake: the CPU of
//             serializing and deserializing that message shape;
//   to a thread  one batch at a time to a worker that answers at once, as a read pool with
//             an idle reader does: the main thread's CPU, its time runnable but waiting for
//             a core (schedstat's second field), and the wall time spent inside postMessage.
//
//   node dist/bench/read-send.js [--batches 20000]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** This thread's [CPU ns, ns runnable waiting for a core] from /proc (Linux). */
function schedstat(): [number, number] {
  const fields = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ');
  return [Number(fields[0]), Number(fields[1])];
}

// A saver's known versions: what a getTuple of a thread already read sends with it.
const known = { __start__: 1.2345, messages: 3.4567, 'branch:to:agent': 2.1 };
const SHAPES: Record<string, () => unknown[]> = {
  'empty batch': () => [],
  '4 getTuple calls': () => {
    const request: unknown[] = [];
    for (let k = 0; k < 4; k++) request.push('langgraph.checkpoint.get', 4, `thread-${k}`, '', null, known);
    return request;
  },
};

function alone(n: number): string[] {
  const { port1, port2 } = new MessageChannel();
  const lines: string[] = [];
  for (const [name, make] of Object.entries(SHAPES)) {
    const c0 = schedstat()[0];
    for (let i = 0; i < n; i++) {
      port1.postMessage(make());
      if ((i & 255) === 255) while (receiveMessageOnPort(port2) !== undefined);
    }
    while (receiveMessageOnPort(port2) !== undefined);
    lines.push(`| ${name} | ${((schedstat()[0] - c0) / n / 1000).toFixed(2)} µs |`);
  }
  port1.close();
  return lines;
}

async function toThread(n: number): Promise<string[]> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(
    `const { workerData, receiveMessageOnPort } = require('node:worker_threads');
     const port = workerData.port;
     port.on('message', (m) => { let x = m; while (x !== undefined) { port.postMessage([1, null]); x = receiveMessageOnPort(port)?.message; } });`,
    { eval: true, workerData: { port: port2 }, transferList: [port2] },
  );
  let answered: () => void = () => {};
  port1.on('message', () => answered());
  const lines: string[] = [];
  for (const [name, make] of Object.entries(SHAPES)) {
    let inPost = 0;
    const [cpu0, wait0] = schedstat();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const request = make();
      const answer = new Promise<void>((resolve) => (answered = resolve));
      const a = performance.now();
      port1.postMessage(request);
      inPost += performance.now() - a;
      await answer;
    }
    const [cpu1, wait1] = schedstat();
    const us = (x: number): string => `${x.toFixed(1)} µs`;
    lines.push(
      `| ${name} | ${us(((performance.now() - t0) * 1000) / n)} | ${us((cpu1 - cpu0) / n / 1000)} | ${us((wait1 - wait0) / n / 1000)} | ${us((inPost * 1000) / n)} |`,
    );
  }
  await worker.terminate();
  port1.close();
  return lines;
}

const { values } = parseArgs({ options: { batches: { type: 'string', default: '20000' } } });
const n = Number(values.batches);
console.log('alone: posted and taken on this thread, CPU per message\n| message | CPU |\n| --- | ---: |');
console.log(alone(n * 2).join('\n'));
console.log('\nto a thread, one batch at a time, per batch\n| message | wall per round trip | main thread CPU | main thread waiting for a core | wall inside postMessage |\n| --- | ---: | ---: | ---: | ---: |');
console.log((await toThread(n)).join('\n'));
