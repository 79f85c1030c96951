// Where a command writes: its output and errors, and progress on a terminal. Its own module,
// below cli.ts and the commands it loads, so that each command imports it and not cli.ts.

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** A terminal: progress can be redrawn in place. */
  interactive?: boolean;
  /** Redraws one progress line in place (interactive only); `done` ends the line. */
  progress?: (line: string, done: boolean) => void;
}

/**
 * Writes lines to a stream until its reader goes away (`abathur-store check --json | head`):
 * the rest is then dropped, quietly, and the command ends with its own exit code, as if its
 * output had all been read. Any other stream error is thrown, as without this listener.
 */
export function lineWriter(stream: NodeJS.WritableStream): (text: string) => void {
  let gone = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    gone = true;
  });
  return (text) => {
    if (!gone) stream.write(`${text}\n`);
  };
}

/** The process's own stdout and stderr. */
export function consoleIo(): CliIo {
  return {
    out: lineWriter(process.stdout),
    err: lineWriter(process.stderr),
    interactive: process.stdout.isTTY,
    progress: (line, done) => process.stdout.write(`\r\x1b[2K${line}${done ? '\n' : ''}`),
  };
}
