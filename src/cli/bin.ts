#!/usr/bin/env node
// The `abathur-store` command. All of it is in cli.ts, where tests can run it.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
