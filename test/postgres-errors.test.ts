import { describe, expect, it } from 'vitest';
import { isConnectionLoss, pgStoreError } from '../src/postgres/errors.js';

/** What Node gives a write to a socket the server closed. */
const epipe = (): Error => Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' });
/** What node-postgres gives for an error the server sent. */
const serverError = (code: string, message: string): Error => Object.assign(new Error(message), { code, severity: 'ERROR' });

describe('PostgreSQL errors', () => {
  it('a socket error whose code looks like a SQLSTATE (EPIPE) is a lost connection, not a defect', () => {
    expect(isConnectionLoss(epipe())).toBe(true);
    expect(pgStoreError(epipe(), { operation: 'memory.update', phase: 'run', write: true })).toMatchObject({ code: 'IO_ERROR' });
    const unknown = pgStoreError(epipe(), { operation: 'sessions.appendEvent', phase: 'commit', write: true });
    expect(unknown).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(unknown.pgCode).toBeUndefined();
  });

  it('codes what the server sent by its SQLSTATE', () => {
    const context = { operation: 'op', phase: 'run', write: true } as const;
    expect(pgStoreError(serverError('40001', 'could not serialize access'), context)).toMatchObject({ code: 'BUSY', pgCode: '40001' });
    expect(pgStoreError(serverError('57P01', 'terminating connection due to administrator command'), context)).toMatchObject({ code: 'IO_ERROR' });
    expect(pgStoreError(serverError('42P01', 'relation "x" does not exist'), context)).toMatchObject({ code: 'INTERNAL', pgCode: '42P01' });
  });
});
