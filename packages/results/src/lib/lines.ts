import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Calls `onLine` for every line of a (possibly gigabyte-sized) file without holding the file in
 * memory. Lines longer than `maxLineBytes` are skipped and counted, so one runaway line cannot
 * exhaust memory.
 */
export async function forEachLine(
  file: string,
  onLine: (line: string, lineNo: number) => void,
  maxLineChars = 64 * 1024 * 1024,
): Promise<{ lines: number; tooLong: number }> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  let lines = 0;
  let tooLong = 0;
  try {
    for await (const line of reader) {
      lines++;
      if (line.length > maxLineChars) {
        tooLong++;
        continue;
      }
      if (line.trim() !== '') onLine(line, lines);
    }
  } finally {
    reader.close();
    stream.destroy();
  }
  return { lines, tooLong };
}
