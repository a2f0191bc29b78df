/** What every command gets: where to write, and how to set the process's exit code. */
import type { Io } from '../io.ts';

export interface CommandContext {
  io: Io;
  setExitCode: (code: number) => void;
}
