import pg from 'pg';

/**
 * A pool for graphile-worker's `run({ pgPool })` that the benchmark closes itself: `close()`
 * resolves once every connection's socket has closed, so that stopping the embedded server
 * right after cannot fail one of them with `57P01` (a pool's `end()` resolves before its
 * clients' sockets have, and a runner's own pool may still be closing when `stop()` resolves).
 */
export function graphilePool(url: string, onError: (error: Error) => void): { pool: pg.Pool; close: () => Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', onError);
  const closed: Promise<unknown>[] = [];
  pool.on('connect', (client) => closed.push(new Promise((resolve) => client.once('end', resolve))));
  return {
    pool,
    close: async () => {
      await pool.end();
      await Promise.all(closed);
    },
  };
}
