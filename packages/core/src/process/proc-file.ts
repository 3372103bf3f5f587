/**
 * Reads a `/proc` file whole into one buffer kept between calls. The supervisor rescans each bot's
 * tree every few seconds by reading every process's `/proc/<pid>/stat` and `/proc/<pid>/environ`;
 * `readFileSync` gives a file that reports size 0, as `/proc` files do, a fresh 64 KB buffer, so
 * ten bots on a machine with a few hundred processes churned tens of MB a minute, which kept the
 * idle supervisor ~6 MB larger (issue 18). The buffer grows (doubling) until a read reaches the end.
 */
import { closeSync, openSync, readSync } from 'node:fs';

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The bytes of `file`, as a view into the shared buffer: valid only until the next call (copy what
 * must outlive it). Throws as `readFileSync` does (ENOENT for a process that is gone, EACCES for
 * another user's).
 */
export function readProcFile(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) return scratch.subarray(0, length);
      length += n;
    }
  } finally {
    closeSync(fd);
  }
}
