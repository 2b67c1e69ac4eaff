/** An error a user can act on: `message` says what went wrong, where, and what to do. */
export class HearthError extends Error {
  /** A short stable code scripts can branch on (printed with `--json`). */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HearthError';
    this.code = code;
  }
}

/** True for errors whose message is meant for the user as it stands. */
export function isHearthError(error: unknown): error is HearthError {
  return error instanceof HearthError;
}
