// A request the gateway cannot serve, as a value: the status, a message the client shows its
// user, and a code scripts branch on. Each API shapes it its own way (error-replies.ts).

/** A failure that becomes an error reply in the shape of the API the client speaks. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Stable and machine-readable, e.g. "model_not_loaded". */
    readonly code: string | null = null,
    /** The request field at fault, when there is one. */
    readonly param: string | null = null,
    /** llama-server's last log lines, when it failed. */
    readonly logTail?: string[],
  ) {
    super(message);
  }
}
