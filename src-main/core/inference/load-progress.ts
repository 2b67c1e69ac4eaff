// Turns what llama-server prints while it loads into a progress report.
//
// Run as a "child" (LLAMA_SERVER_ROUTER_PORT set, see llama-server-process.ts) llama-server writes
// its loader's progress callback to stdout as `cmd_child_to_router:state:{json}` lines
// (tools/server/server-models.cpp, server_child::notify_to_router): the fraction of tensor bytes
// loaded, per stage, at most every 200 ms. That callback replaces the dots llama.cpp prints
// otherwise (src/llama.cpp), so there are no dots to count. The log lines name the steps around it.
import type { LoadProgress } from './load-state.js';

/** The prefix of llama-server's child-to-router state messages (server-models.cpp CMD_CHILD_TO_ROUTER_STATE). */
export const CHILD_STATE_PREFIX = 'cmd_child_to_router:state:';

/** Progress before llama-server has said anything. */
export const START_PROGRESS: LoadProgress = { step: 'starting llama-server', fraction: null };

// Log lines that begin a step; matched anywhere in the line. At llama-server's default verbosity
// only the first appears; the others show with `-lv 4` and above.
const STEPS: readonly [RegExp, string][] = [
  [/load_model: loading model|llama_model_loader: loaded meta data/, 'reading the model'],
  [/load_tensors: loading model tensors/, 'loading tensors'],
  [/llama_context: constructing llama_context/, 'creating the context'],
  [/warming up the model/, 'warming up'],
];
// What follows the last tensor (context, KV cache, warm-up) has no measure: it is named, not counted.
const AFTER_TENSORS = 'creating the context';

/** Whether a line is a state message for the parent rather than a log line. */
export function isChildStateLine(line: string): boolean {
  return line.startsWith(CHILD_STATE_PREFIX);
}

/** Whether a line is the state message that says it serves (server.cpp notifies `ready` once loaded). */
export function isReadyStateLine(line: string): boolean {
  return stateMessage(line)?.state === 'ready';
}

/** A state message's JSON object, or null for any other line. */
function stateMessage(line: string): Record<string, unknown> | null {
  if (!isChildStateLine(line)) return null;
  try {
    const message: unknown = JSON.parse(line.slice(CHILD_STATE_PREFIX.length));
    return isRecord(message) ? message : null;
  } catch {
    return null;
  }
}

/** The progress after `line`, or null when the line says nothing new about the load. */
export function nextLoadProgress(line: string, current: LoadProgress): LoadProgress | null {
  if (isChildStateLine(line)) return fromStateMessage(stateMessage(line), current);
  for (const [pattern, step] of STEPS) {
    if (pattern.test(line)) return step === current.step ? null : { ...current, step };
  }
  return null;
}

function fromStateMessage(message: Record<string, unknown> | null, current: LoadProgress): LoadProgress | null {
  if (message?.state !== 'loading' || !isRecord(message.payload)) return null;
  const { value, stages, current: stage } = message.payload;
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  // A draft or projector model is a further stage with its own 0..1: spread them over one bar.
  const names = Array.isArray(stages) ? stages : [];
  const index = Math.max(0, names.indexOf(stage));
  const count = Math.max(1, names.length);
  const fraction = Math.min(1, Math.max(0, (index + value) / count));
  if (current.fraction !== null && fraction < current.fraction) return null; // never go backwards
  // The callback fires once at 0 before the file is even opened: that is not tensor loading yet.
  const step = fraction >= 1 ? AFTER_TENSORS : value > 0 ? 'loading tensors' : current.step;
  if (step === current.step && fraction === current.fraction) return null;
  return { step, fraction };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
