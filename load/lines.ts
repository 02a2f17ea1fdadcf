// Line-by-line reading of a child process's output, across chunk boundaries.
import type { Readable } from 'node:stream';

/** Calls `onLine` for each line of a stream (a last unterminated line too); resolves at its end. */
export function eachLine(stream: Readable | null | undefined, onLine: (line: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
  stream.setEncoding('utf8');
  let rest = '';
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  });
  return new Promise((resolve) => {
    const done = () => {
      if (rest !== '') onLine(rest);
      rest = '';
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}
