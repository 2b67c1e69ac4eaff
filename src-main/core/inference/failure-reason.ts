// Says in one sentence why a llama-server ended, from how it exited and what it printed last.

/** How a process ended, as node:child_process reports it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// llama.cpp's log lines read `<time> <level> <tag> <message>`, e.g.
// `0.00.087.511 E llama_model_load: error loading model: tensor ... not within the file bounds`.
const LEVELLED = /^\s*\d+\.\d+\.\d+\.\d+ ([DIWE]) (?:(?:srv|cmn|slot|que|res)\s+)?(.*)$/;
// For lines without that prefix (an abort's backtrace, an older release).
const ERROR_WORDS = /\berror\b|\bfailed\b|\babort|GGML_ASSERT|exception|what\(\)|cannot|unable/i;
// ggml's abort (GGML_ABORT, GGML_ASSERT): `<source file>:<line>: <message>`, e.g. patch 0009's
// `.../ggml-rpc.cpp:758: RPC server 127.0.0.1:41234 closed the connection ... (during GRAPH_COMPUTE)`.
const ABORT = /\.(?:c|cc|cpp|h):\d+: \S/;
// Consequences rather than causes.
const CONSEQUENCE = /exiting due to|failed to load model\b|cleaning up/i;

/** The reason a llama-server ended, naming the most telling error line it printed (if any). */
export function failureReason(exit: ProcessExit, logTail: readonly string[], during: 'load' | 'serve'): string {
  const when = during === 'load' ? ' while loading the model' : ' while serving';
  const how = exit.signal ? `was killed by ${exit.signal}${when}` : exit.code === null ? 'could not be started' : `exited with code ${exit.code}${when}`;
  return `llama-server ${how}${cause(logTail).replace(/^(.)/, ': $1')}`;
}

/** The first line that states an error, not a consequence of one; '' when none does. */
function cause(logTail: readonly string[]): string {
  let fallback = '';
  for (const line of logTail) {
    const levelled = LEVELLED.exec(line);
    const message = (levelled ? levelled[2]! : line).trim();
    if (CONSEQUENCE.test(message)) continue;
    if (levelled?.[1] === 'E') return message;
    if (!levelled && !fallback && (ERROR_WORDS.test(message) || ABORT.test(message))) fallback = message;
  }
  return fallback;
}
