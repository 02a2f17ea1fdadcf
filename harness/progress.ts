// Terminal output of long commands. On a TTY one status line is rewritten in place; elsewhere (CI logs)
// a status line is printed at most every few seconds; under --quiet only the final summary line appears.
export interface Terminal {
  log(line: string): void;
  progress(line: string): void;
  done(): void;
}

export function createTerminal(options: { quiet: boolean; stream?: NodeJS.WriteStream; intervalMs?: number; now?: () => number }): Terminal {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 5000;
  const live = stream.isTTY === true;
  let lastPrinted = 0;
  let pending = false;
  const clear = () => {
    if (pending) stream.write('\r\x1b[2K');
    pending = false;
  };
  return {
    log(line) {
      if (options.quiet) return;
      clear();
      stream.write(`${line}\n`);
    },
    progress(line) {
      if (options.quiet) return;
      if (live) {
        stream.write(`\r\x1b[2K${line}`);
        pending = true;
      } else if (now() - lastPrinted >= interval) {
        lastPrinted = now();
        stream.write(`${line}\n`);
      }
    },
    done() {
      clear();
    },
  };
}
