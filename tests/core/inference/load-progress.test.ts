import { describe, expect, it } from 'vitest';
import type { LoadProgress } from '../../../src-main/core/inference/load-state.js';
import { CHILD_STATE_PREFIX, isReadyStateLine, nextLoadProgress, START_PROGRESS } from '../../../src-main/core/inference/load-progress.js';

const state = (value: number, stages = ['text_model'], current = 'text_model'): string =>
  `${CHILD_STATE_PREFIX}${JSON.stringify({ state: 'loading', payload: { stages, current, value } })}`;

function follow(lines: string[]): LoadProgress[] {
  const seen: LoadProgress[] = [];
  let current = START_PROGRESS;
  for (const line of lines) {
    const next = nextLoadProgress(line, current);
    if (next) seen.push((current = next));
  }
  return seen;
}

describe('nextLoadProgress', () => {
  it('follows a load from llama-server\'s state messages and log lines', () => {
    // As this release prints them at its default verbosity, plus the lines of `-lv 4`.
    const seen = follow([
      '0.00.143.564 I cmn  common_param: common_params_print_info: verbosity = 3 (adjust with the `-lv N` CLI arg)',
      state(0),
      "0.00.147.778 I srv    load_model: loading model '/tmp/hearth-tiny.gguf'",
      'load_tensors: loading model tensors, this can take a while... (load_mode = mmap)',
      state(0.25),
      state(0.75),
      state(1),
      'llama_context: constructing llama_context',
      'common_init_from_params: warming up the model with an empty run - please wait ... (--no-warmup to disable)',
    ]);
    expect(seen).toEqual([
      { step: 'starting llama-server', fraction: 0 },
      { step: 'reading the model', fraction: 0 },
      { step: 'loading tensors', fraction: 0 },
      { step: 'loading tensors', fraction: 0.25 },
      { step: 'loading tensors', fraction: 0.75 },
      { step: 'creating the context', fraction: 1 },
      { step: 'warming up', fraction: 1 },
    ]);
  });

  it('spreads a draft model\'s stage over the same bar and never goes backwards', () => {
    const stages = ['text_model', 'spec_model'];
    const seen = follow([state(0.5, stages), state(1, stages), state(0.5, stages, 'spec_model'), state(0.2, stages)]);
    expect(seen.map((p) => p.fraction)).toEqual([0.25, 0.5, 0.75]);
  });

  it('ignores other lines, other states and broken messages', () => {
    for (const line of ['', 'srv  log_server_r: request: GET /health 127.0.0.1 503', `${CHILD_STATE_PREFIX}{"state":"ready","payload":{}}`, `${CHILD_STATE_PREFIX}{not json`, `${CHILD_STATE_PREFIX}{"state":"loading","payload":{"value":"half"}}`]) {
      expect(nextLoadProgress(line, START_PROGRESS)).toBeNull();
    }
  });
});

describe('isReadyStateLine', () => {
  it('knows the message llama-server sends its parent once it serves, and nothing else', () => {
    expect(isReadyStateLine(`${CHILD_STATE_PREFIX}${JSON.stringify({ state: 'ready', payload: { id: 'tiny' } })}`)).toBe(true);
    expect(isReadyStateLine(state(1))).toBe(false);
    expect(isReadyStateLine(`${CHILD_STATE_PREFIX}{"state": "ready"`)).toBe(false);
    expect(isReadyStateLine('0.02.234.504 I srv  llama_server: state: ready')).toBe(false);
  });
});
