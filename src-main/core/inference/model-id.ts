import path from 'node:path';

/** The id a model is served under: its file name without `.gguf` (what the user dropped). */
export function modelIdFor(file: string): string {
  const name = path.basename(file).replace(/\.gguf$/i, '');
  // llama-server splits --alias at commas (common/arg.cpp) and strips the ends.
  return name.replace(/,/g, '_').trim() || 'model';
}
