import { ensureTools } from '../src-main/core/native/tools.js';

/**
 * Build the llama.cpp tools once before any test needs them (about 5 minutes the first time on
 * 2 cores, then cached per user), printing progress instead of looking hung.
 */
export default async function setup(): Promise<void> {
  let lastStep = '';
  const tools = await ensureTools({
    onProgress: ({ step, fraction }) => {
      const line = fraction === null ? step : `${Math.floor(fraction * 10) * 10}% ${step.split(' ')[0]}`;
      if (line !== lastStep) process.stderr.write(`[llama.cpp tools] ${fraction === null ? step : line}\n`);
      lastStep = line;
    },
  });
  process.stderr.write(`[llama.cpp tools] ${tools.release} ready in ${tools.binDir}\n`);
}
