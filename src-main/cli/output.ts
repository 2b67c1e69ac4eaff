import type { Writable } from 'node:stream';

type Stream = Writable & { isTTY?: boolean; columns?: number };

/**
 * Where a command's results go. With `--json`, stdout carries one JSON object (or one per line
 * for long-running commands) and nothing else; without, text for people, progress on stderr.
 */
export class CliOutput {
  readonly json: boolean;
  readonly #stdout: Stream;
  readonly #stderr: Stream;
  #progressShown = false;
  #lastProgressLine = '';

  constructor(json: boolean, stdout: Stream = process.stdout, stderr: Stream = process.stderr) {
    this.json = json;
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** The command's one result: JSON, or text made by `text()`. */
  result(value: unknown, text: () => string): void {
    this.#clearProgress();
    this.#stdout.write(this.json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
  }

  /** One event of a long-running command: a JSON line, or a text line when given. */
  event(value: { event: string } & Record<string, unknown>, text?: string): void {
    this.#clearProgress();
    if (this.json) this.#stdout.write(`${JSON.stringify(value)}\n`);
    else if (text !== undefined) this.#stdout.write(`${text}\n`);
  }

  /** A note for people (stderr), never mixed into JSON output. */
  note(text: string): void {
    this.#clearProgress();
    this.#stderr.write(`${text}\n`);
  }

  /** Progress of long work: a bar redrawn in place on a terminal, a line per change of step elsewhere. */
  progress(step: string, fraction: number | null): void {
    if (this.json) {
      this.#stdout.write(`${JSON.stringify({ event: 'progress', step, fraction })}\n`);
      return;
    }
    if (this.#stderr.isTTY) {
      const width = 30;
      const bar = fraction === null ? ' '.repeat(width) : '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
      const percent = fraction === null ? '    ' : `${Math.round(fraction * 100)}%`.padStart(4);
      const line = `[${bar}] ${percent} ${step}`.slice(0, (this.#stderr.columns ?? 100) - 1);
      this.#stderr.write(`\r\x1b[2K${line}`);
      this.#progressShown = true;
    } else {
      // Logs and CI: one line per step, and per 10% of a step.
      const line = `${step.split(' ')[0]} ${fraction === null ? '' : `${Math.floor(fraction * 10) * 10}%`}`;
      if (line !== this.#lastProgressLine) this.#stderr.write(`${fraction === null ? step : `${Math.round(fraction * 100)}% ${step}`}\n`);
      this.#lastProgressLine = line;
    }
  }

  #clearProgress(): void {
    if (this.#progressShown) this.#stderr.write('\r\x1b[2K');
    this.#progressShown = false;
  }
}
