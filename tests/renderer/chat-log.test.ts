// The Chat screen's pure part: chunks into an answer, the messages of an ask, the live speed.
import { describe, expect, it } from 'vitest';
import { answerTokensPerSecond, applyChunk, buildMessages, describeSpeed, errorText, formatTokensPerSecond, liveTokensPerSecond, newAnswer } from '../../src-renderer/src/lib/chat-log.js';

describe('applyChunk', () => {
  it('appends text of its own ask in order, counting chunks and timing the first and latest', () => {
    let answer = applyChunk(newAnswer('a'), { id: 'a', text: 'Hel' }, 1000);
    answer = applyChunk(answer, { id: 'a', text: 'lo\n' }, 1250);
    answer = applyChunk(answer, { id: 'a', text: 'there' }, 1500);
    expect(answer).toEqual({ id: 'a', content: 'Hello\nthere', chunks: 3, firstAt: 1000, lastAt: 1500 });
  });

  it('ignores chunks of another ask, empty chunks, and chunks when nothing streams', () => {
    const answer = applyChunk(newAnswer('a'), { id: 'a', text: 'x' }, 10);
    expect(applyChunk(answer, { id: 'b', text: 'intruder' }, 20)).toBe(answer);
    expect(applyChunk(answer, { id: 'a', text: '' }, 30)).toBe(answer);
    expect(applyChunk(null, { id: 'a', text: 'late' }, 40)).toBeNull();
  });

  it('leaves the answer it was given unchanged (the state replaces it)', () => {
    const before = newAnswer('a');
    applyChunk(before, { id: 'a', text: 'x' }, 5);
    expect(before).toEqual({ id: 'a', content: '', chunks: 0, firstAt: null, lastAt: null });
  });
});

describe('buildMessages', () => {
  const turns = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: '' },
    { role: 'user', content: 'Still there?' },
    { role: 'assistant', content: 'Yes.' },
  ] as const;

  it('puts a trimmed system prompt first and keeps the history in order, without empty turns', () => {
    expect(buildMessages(turns, '  Be brief.  ')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'user', content: 'Still there?' },
      { role: 'assistant', content: 'Yes.' },
    ]);
  });

  it('sends no system message for a missing or blank prompt', () => {
    expect(buildMessages(turns).map((m) => m.role)).toEqual(['user', 'user', 'assistant']);
    expect(buildMessages(turns, ' \n ').map((m) => m.role)).toEqual(['user', 'user', 'assistant']);
  });

  it('copies each turn to a plain object with only role and content', () => {
    const turn = { role: 'user' as const, content: 'Hi', extra: 1 };
    const [message] = buildMessages([turn]);
    expect(message).not.toBe(turn);
    expect(Object.keys(message!)).toEqual(['role', 'content']);
  });
});

describe('live tokens per second', () => {
  it('counts the intervals between chunks, not the chunks', () => {
    // 11 chunks over 2 s: 10 intervals.
    expect(liveTokensPerSecond(11, 2000)).toBe(5);
    expect(liveTokensPerSecond(2, 250)).toBe(4);
  });

  it('is unknown before a second chunk or with no time between them', () => {
    expect(liveTokensPerSecond(0, 0)).toBeNull();
    expect(liveTokensPerSecond(1, 500)).toBeNull();
    expect(liveTokensPerSecond(5, 0)).toBeNull();
  });

  it('reads an answer from its first to its latest chunk', () => {
    let answer = newAnswer('a');
    expect(answerTokensPerSecond(answer)).toBeNull();
    for (const at of [100, 300, 500, 700, 900]) answer = applyChunk(answer, { id: 'a', text: 't' }, at)!;
    expect(answerTokensPerSecond(answer)).toBe(5);
    expect(answerTokensPerSecond(null)).toBeNull();
  });
});

describe('the speed line', () => {
  it('shows one decimal below 100 tokens/s and whole numbers above', () => {
    expect(formatTokensPerSecond(12.345)).toBe('12.3 tokens/s');
    expect(formatTokensPerSecond(5)).toBe('5.0 tokens/s');
    expect(formatTokensPerSecond(123.6)).toBe('124 tokens/s');
  });

  it('is live while streaming, whatever the last answer was', () => {
    const last = { tokens: 9, tokensPerSecond: 3, stopped: false };
    expect(describeSpeed(true, null, last)).toBe('Answering…');
    expect(describeSpeed(true, 7.25, last)).toBe('Answering at 7.3 tokens/s');
  });

  it('gives the last answer tokens and speed, and says when it was stopped', () => {
    expect(describeSpeed(false, null, null)).toBeNull();
    expect(describeSpeed(false, null, { tokens: 42, tokensPerSecond: 18.04, stopped: false })).toBe('Last answer: 42 tokens at 18.0 tokens/s');
    expect(describeSpeed(false, null, { tokens: 1, tokensPerSecond: null, stopped: false })).toBe('Last answer: 1 token');
    expect(describeSpeed(false, null, { tokens: 7, tokensPerSecond: 2, stopped: true })).toBe('Stopped after 7 tokens at 2.0 tokens/s');
  });
});

describe('errorText', () => {
  it('drops the transport prefixes and keeps the message', () => {
    expect(errorText(new Error("Error invoking remote method 'sendChat': Error: No model is loaded."))).toBe('No model is loaded.');
    expect(errorText(new Error('sendChat failed (409): No model is loaded.'))).toBe('No model is loaded.');
    expect(errorText(new TypeError('Failed to fetch'))).toBe('Failed to fetch');
    expect(errorText('plain words')).toBe('plain words');
  });
});
