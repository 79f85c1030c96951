import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

// Reading a command's arguments: node:util's parseArgs, with mistakes said the way the
// rest of the command line says them (and the closest option suggested).

/** Edit distance (insertions, deletions, substitutions) between two short words. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The candidate closest to `word` (a typo of it: at most two edits, or a prefix), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = candidate.startsWith(word) ? 1 : distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.min(2, Math.max(1, Math.floor(word.length / 2))) ? best : undefined;
}

/** `did you mean …?` for a mistyped word, or nothing. */
export function suggestion(word: string, candidates: readonly string[]): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean ${match}?)`;
}

/**
 * parseArgs for one command. An unknown option is a UsageError that names it and suggests
 * the closest known one (parseArgs's own message suggests quoting it as a positional, with
 * an unbalanced quote).
 */
export function parseCommand<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw error;
    const option = /'(-[^']*)'/.exec((error as Error).message)?.[1] ?? 'given';
    const listed = [...Object.keys(config.options ?? {}).map((name) => `--${name}`), '--help'];
    throw new UsageError(`unknown option ${option} for ${command}${suggestion(option, listed)}; its options: ${listed.join(', ')}`);
  }
}

/**
 * Refuses a URL whose scheme the store does not speak (`mysql://…`), which would
 * otherwise be taken for a relative path and become a directory named `mysql:`. Only the
 * scheme is echoed: the rest may hold a password.
 */
export function refuseForeignUrl(text: string | undefined, what: string, accepted: 'postgres' | 'none'): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text ?? '')?.[1];
  if (scheme === undefined) return;
  if (accepted === 'postgres' && (scheme === 'postgres' || scheme === 'postgresql')) return;
  const takes = accepted === 'postgres' ? 'a database file path or a postgres:// URL' : 'a database file path';
  throw new UsageError(`${what} is a ${scheme}:// URL; it takes ${takes}`);
}
