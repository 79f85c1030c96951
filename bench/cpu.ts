import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time a thread of this process has run, in nanoseconds, from Linux's per-thread
 * scheduler statistics (`/proc/self/task/<tid>/schedstat`, first field); undefined where
 * there is none. The main thread's id is the process id. Unlike wall time, a thread's CPU
 * time per operation barely moves when other processes share the cores, so it is the
 * figure to compare on a busy machine.
 */
export function threadCpuNs(tid: number = process.pid): number | undefined {
  try {
    const text = readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1');
    const ns = Number(text.slice(0, text.indexOf(' ')));
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time of every thread of this process so far, in nanoseconds (user + system). */
export function processCpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** CPU time so far of every thread of this process, by thread id (empty where /proc has none). */
function allThreadsCpuNs(): Map<number, number> {
  const times = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return times;
  }
  for (const tid of tids) {
    const ns = threadCpuNs(Number(tid));
    if (ns !== undefined) times.set(Number(tid), ns);
  }
  return times;
}

export interface CpuPerOp {
  /** Microseconds of the caller's (main) thread per operation; null where it cannot be read. */
  callerUs: number | null;
  /** Microseconds of the whole process (every thread) per operation. */
  processUs: number;
  /**
   * Microseconds per operation of each other thread that used at least 2% of the total,
   * busiest first: under a write load the first is the writer, under reads the readers.
   */
  threadsUs: number[];
}

/** Starts counting; the function it returns gives the CPU per operation since. */
export function cpuMeter(): (ops: number) => CpuPerOp {
  const caller = threadCpuNs();
  const all = processCpuNs();
  const threads = allThreadsCpuNs();
  return (ops) => {
    const callerNow = threadCpuNs();
    const per = (ns: number): number => Math.round((ns / Math.max(1, ops) / 1000) * 100) / 100;
    const spent = [...allThreadsCpuNs()]
      .filter(([tid]) => tid !== process.pid)
      .map(([tid, ns]) => ns - (threads.get(tid) ?? 0));
    const total = processCpuNs() - all;
    return {
      callerUs: caller === undefined || callerNow === undefined ? null : per(callerNow - caller),
      processUs: per(total),
      threadsUs: spent
        .filter((ns) => ns >= 0.02 * total)
        .sort((a, b) => b - a)
        .map(per),
    };
  };
}

/**
 * CPU time so far of a process and its children (a PostgreSQL server: the postmaster and
 * its backends), by process id, in microseconds, from /proc/<pid>/stat (utime + stime, at
 * 100 ticks a second); empty where /proc has none. A backend that exits between two
 * readings takes its time with it.
 */
export function processTreeCpuUs(root: number): Map<number, number> {
  const times = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return times;
  }
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
      // After the command name in parentheses: state, ppid, ..., utime (14th field), stime (15th).
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (Number(pid) !== root && ppid !== root) continue;
      times.set(Number(pid), (Number(fields[11]) + Number(fields[12])) * 10_000);
    } catch {
      // Exited meanwhile.
    }
  }
  return times;
}

/** CPU a process tree used between two readings of {@link processTreeCpuUs}, in microseconds. */
export function treeCpuSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, us] of after) total += us - (before.get(pid) ?? 0);
  return total;
}
