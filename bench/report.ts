import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { TrialConfig } from './trial.js';
import type { LoadResult } from './workload.js';
import { benchFile } from './paths.js';

/**
 * Runs `script` in a child process with `config` as its one argument (JSON) and returns
 * what it printed, parsed: how every benchmark runs a trial in a process of its own.
 */
export function runChildTrial<R>(script: string, config: { system: string }, what = config.system, maxBuffer = 16 << 20): Promise<R> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(config)], { maxBuffer }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${what} trial failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as R);
    });
  });
}

/** Runs one trial in a child process and returns its result. */
export function runTrial(config: TrialConfig): Promise<LoadResult> {
  return runChildTrial(benchFile('trial'), config, config.system, 64 << 20);
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  sqlite: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    sqlite,
    platform: `${process.platform} ${process.arch}`,
  };
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The trial whose throughput is the median: its latencies are reported with it. */
export function medianTrial(trials: readonly LoadResult[]): LoadResult {
  const sorted = [...trials].sort((a, b) => a.throughput - b.throughput);
  return sorted[(sorted.length - 1) >> 1]!;
}

/** Formats rows as an aligned text table; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export const ratio = (value: number, base: number): string => (base > 0 ? `${(value / base).toFixed(2)}x` : 'n/a');
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const us = (n: number | undefined): string => (n === undefined ? '-' : n >= 10_000 ? `${(n / 1000).toFixed(1)}ms` : `${n}us`);
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
