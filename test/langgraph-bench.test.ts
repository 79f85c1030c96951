import { describe, expect, inject, it } from 'vitest';
import { benchMain } from '../bench/run-bench.js';

// The LangGraph benchmarks are not part of the library's coverage, but their commands
// must work: tiny runs, in child processes, from the build.
describe('npm run bench -- --langgraph', () => {
  it('runs the savers side by side and prints the table', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const args = ['--langgraph', '--trials', '1', '--threads', '2', '--invokes', '1', '--workloads', 'saver,graph', '--lg-systems', 'abathur,sqlite'];
    expect(await benchMain(args, io)).toBe(0);
    expect(output).toMatch(/^saver\s+abathur\s+[\d,]+\s+[\d.]+x/m);
    expect(output).toMatch(/^graph\s+sqlite\s+[\d,]+\s+1\.00x/m);
    expect(await benchMain(['--langgraph', '--workloads', 'nope'], io)).toBe(2);
  });

  it('runs another build’s saver as before, in the same run', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    // This build stands in for the other one: its root holds dist/ like any build's.
    const args = ['--langgraph', '--trials', '1', '--threads', '2', '--invokes', '1', '--workloads', 'saver', '--before', process.cwd()];
    expect(await benchMain(args, io), output).toBe(0);
    expect(output).toMatch(/^saver\s+before\s+[\d,]+\s+[\d.]+x\s+1\.00x/m);
    expect(output).toMatch(/^saver\s+abathur\s+[\d,]+\s+[\d.]+x\s+[\d.]+x/m);
  });

  it('runs AbathurSaver on PostgreSQL against LangGraph’s PostgresSaver on the same server, as a ratio to PostgresSaver', { timeout: 120_000 }, async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    const server = new URL(inject('pgTemplateUrl'));
    server.pathname = '/postgres';
    const args = ['--langgraph', '--trials', '1', '--threads', '2', '--invokes', '1', '--workloads', 'saver', '--lg-systems', 'abathur-pg,postgres', '--url', server.href];
    expect(await benchMain(args, io), output).toBe(0);
    expect(output).toMatch(/PostgreSQL systems on PostgreSQL \d+/);
    expect(output).toMatch(/^saver\s+postgres\s+[\d,]+\s+1\.00x/m);
    expect(output).toMatch(/^saver\s+abathur-pg\s+[\d,]+\s+[\d.]+x/m);
  });

  it('measures ranked search', async () => {
    let output = '';
    const io = { out: (t: string) => (output += `${t}\n`), err: (t: string) => (output += t) };
    expect(await benchMain(['--langgraph-search', '--items', '50', '--dims', '4'], io)).toBe(0);
    expect(output).toMatch(/^50\s+4\s+[\d.]+ ms/m);
    expect(await benchMain(['--langgraph-search', '--items', 'many'], io)).toBe(2);
  });
});
