#!/usr/bin/env node
// The benchmark's command: `npm run bench -- [options]`, i.e. node dist/bench/main.js.
import { benchMain } from './run-bench.js';

process.exitCode = await benchMain(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
