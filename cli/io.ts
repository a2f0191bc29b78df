/** Where commands write: stdout holds the report (so `--json | jq` works), stderr the progress and diagnostics. */
export interface Io {
  /** The report; a trailing newline is added when missing. */
  out: (text: string) => void;
  /** One diagnostic or progress line. */
  err: (line: string) => void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** The JSON the CLI prints, byte for byte: two-space indentation and one final newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function printJson(io: Io, value: unknown): void {
  io.out(jsonText(value));
}
