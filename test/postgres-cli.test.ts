import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/cli.js';
import type { CliIo } from '../src/cli/io.js';
import { postgresSchemaVersion } from '../src/postgres/schema.js';
import { freshEmptyPostgresUrl, freshPostgresUrl, pgClient } from './helpers/postgres.js';

function capture(): CliIo & { text(): string; errors(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (t) => out.push(t), err: (t) => err.push(t), text: () => out.join('\n'), errors: () => err.join('\n') };
}

describe('the command line on PostgreSQL', () => {
  it('init applies the schema once; check passes it, then names what is wrong, as text or JSON', async () => {
    const url = await freshEmptyPostgresUrl();
    const first = capture();
    expect(await main(['init', url], first)).toBe(0);
    expect(first.text()).toMatch(new RegExp(`^initialised schema "abathur" on postgres://abathur:\\*\\*\\*@.* \\(schema version ${postgresSchemaVersion()}\\)$`));
    const again = capture();
    expect(await main(['init', url], again)).toBe(0);
    expect(again.text()).toContain(`is already at schema version ${postgresSchemaVersion()}`);

    const ok = capture();
    expect(await main(['check', url], ok)).toBe(0);
    expect(ok.text()).toContain('33 of 33 satisfied');
    expect(ok.text()).toMatch(/result: ok$/);

    const client = await pgClient(url);
    await client.query('DROP INDEX abathur.idx_agents_state');
    const bad = capture();
    expect(await main(['check', url, '--json'], bad)).toBe(1);
    const report = JSON.parse(bad.text()) as { ok: boolean; engine: string; indexes: { requirement: string; satisfied: boolean }[] };
    expect(report).toMatchObject({ ok: false, engine: 'postgres' });
    expect(report.indexes.filter((f) => !f.satisfied).map((f) => f.requirement)).toEqual(['idx_agents_state']);
  });

  it('check fails a schema the store never set up, and its own schema option finds one it did', async () => {
    const url = await freshPostgresUrl();
    const missing = capture();
    expect(await main(['check', url, '--schema', 'elsewhere'], missing)).toBe(1);
    expect(missing.text()).toContain(`schema version: 0 (expected ${postgresSchemaVersion()};`);
    expect(await main(['init', url, '--schema', 'elsewhere'], capture())).toBe(0);
    expect(await main(['check', url, '--schema', 'elsewhere'], capture())).toBe(0);
  });

  it('refuses --schema with a file, and an unreachable server with exit code 1', async () => {
    const usage = capture();
    expect(await main(['check', './x.db', '--schema', 'a'], usage)).toBe(2);
    expect(usage.errors()).toContain('--schema applies to a PostgreSQL URL only');
    const down = capture();
    expect(await main(['check', 'postgres://nobody:pw@127.0.0.1:9/none'], down)).toBe(1);
    expect(down.errors()).toMatch(/IO_ERROR: .*postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:9\/none/);
  });
});
