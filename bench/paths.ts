import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This module runs from bench/ under vitest and from dist/bench/ once built. Threads and
// child processes can only load JavaScript, so both find their scripts in the build.
const here = dirname(fileURLToPath(import.meta.url));
const built = basename(dirname(here)) === 'dist' ? here : join(here, '..', 'dist', 'bench');

/** Compiled benchmark files that run in their own thread or process. */
export const benchFile = (
  name: 'trial' | 'naive-worker' | 'langgraph-trial' | 'adk-trial' | 'telemetry-trial' | 'wakeup-producer' | 'claim-producer' | 'adk-runner' | 'session-reads',
): string => join(built, `${name}.js`);
