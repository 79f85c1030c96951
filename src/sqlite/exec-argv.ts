// Which of the parent's Node flags the store's threads start with.
//
// By default a worker thread inherits its parent's flags as they are. That breaks when the
// parent's flags describe its own entry point: a program given with `--input-type=module
// -e '…'` (or on stdin) passes `--input-type` on, and a worker whose script is a file then
// dies at once (ERR_INPUT_TYPE_NOT_ALLOWED). Then the threads get an explicit list instead,
// and Node refuses V8 and process-wide flags in an explicit list (ERR_WORKER_INVALID_EXEC_ARGV):
// those already hold for every thread of the process, so the list keeps only the per-thread
// flags that shape how code loads and how it reports.

/** Flags that say how the parent's own script was given, with whether a value follows them. */
const ENTRY_FLAGS: ReadonlyMap<string, boolean> = new Map([
  ['--input-type', true],
  ['-e', true],
  ['--eval', true],
  ['-p', true],
  ['--print', true],
  ['-pe', true],
  ['-i', false],
  ['--interactive', false],
  ['-c', false],
  ['--check', false],
]);

/** Per-thread flags a worker accepts and can use, with whether a value follows them. */
const THREAD_FLAGS: ReadonlyMap<string, boolean> = new Map([
  ['--conditions', true],
  ['-C', true],
  ['--import', true],
  ['--require', true],
  ['-r', true],
  ['--loader', true],
  ['--experimental-loader', true],
  ['--experimental-default-type', true],
  ['--unhandled-rejections', true],
  ['--disable-warning', true],
  ['--enable-source-maps', false],
  ['--preserve-symlinks', false],
  ['--preserve-symlinks-main', false],
  ['--no-warnings', false],
  ['--no-deprecation', false],
  ['--trace-warnings', false],
  ['--trace-deprecation', false],
  ['--throw-deprecation', false],
  ['--pending-deprecation', false],
  ['--trace-uncaught', false],
  ['--experimental-vm-modules', false],
  ['--experimental-import-meta-resolve', false],
  ['--experimental-detect-module', false],
  ['--experimental-require-module', false],
  ['--experimental-wasm-modules', false],
]);

/** `--flag=value` → `--flag`. */
const flagName = (arg: string): string => {
  const eq = arg.indexOf('=');
  return eq === -1 ? arg : arg.slice(0, eq);
};

/**
 * The `execArgv` for the store's worker threads, given the parent's: `undefined` (inherit
 * them, Node's default) unless they name the parent's entry point (`--input-type`,
 * `-e`/`--eval`, `-p`/`--print`, `-i`, `-c`); then the per-thread flags among them, without
 * the entry point's.
 */
export function workerExecArgv(parent: readonly string[] = process.execArgv): string[] | undefined {
  if (!parent.some((arg) => ENTRY_FLAGS.has(flagName(arg)))) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i]!;
    const name = flagName(arg);
    const inline = name !== arg;
    const entryValue = ENTRY_FLAGS.get(name);
    if (entryValue !== undefined) {
      // Skip its value too: the script of `-e` may look like a flag.
      if (entryValue && !inline) i++;
      continue;
    }
    const threadValue = THREAD_FLAGS.get(name);
    if (threadValue === undefined) continue;
    kept.push(arg);
    if (threadValue && !inline && i + 1 < parent.length) kept.push(parent[++i]!);
  }
  return kept;
}

/** `{ execArgv }` for one of the store's workers, or nothing when it inherits the parent's flags. */
export function execArgvOption(): { execArgv?: string[] } {
  const execArgv = workerExecArgv();
  return execArgv === undefined ? {} : { execArgv };
}
