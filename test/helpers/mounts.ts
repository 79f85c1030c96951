import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TmpfsMount {
  dir: string;
  remount(options: string): void;
  unmount(): void;
}

/**
 * Mounts a small tmpfs (needs root and mount privileges). Returns the reason it could not,
 * for the test to print and skip on.
 */
export function mountTmpfs(sizeBytes: number): TmpfsMount | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'abathur-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skip: `cannot mount a tmpfs here (${stderr || (error as Error).message})` };
  }
  return {
    dir,
    remount(options) {
      execFileSync('mount', ['-o', `remount,${options}`, dir], { stdio: 'pipe' });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `body` on a fresh tmpfs and unmounts it after; where the machine cannot mount one,
 * prints why and skips the test.
 */
export async function withTmpfs(
  context: { skip(): void },
  sizeBytes: number,
  body: (mount: TmpfsMount) => Promise<void> | void,
): Promise<void> {
  const mount = mountTmpfs(sizeBytes);
  if ('skip' in mount) {
    console.log(`skipped: ${mount.skip}`);
    context.skip();
    return;
  }
  try {
    await body(mount);
  } finally {
    mount.unmount();
  }
}
