// What Ollama's listings (/api/tags, /api/show, /api/ps) say about the loaded model: read from
// the llama-server serving it (/props, /v1/models) and from the GGUF file's own header.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { readGgufHeader } from '../../../gguf/gguf-header.js';
import { answerJson, httpRequest } from '../../../net/http-request.js';
import type { BackendLease } from '../../model-slot.js';

/** The loaded model, as far as Ollama's clients care. */
export interface ModelFacts {
  modelId: string;
  path: string;
  sizeBytes: number;
  /** The file's modification time, ISO 8601. */
  modifiedAt: string;
  /** Names the file as loaded (its path, size and time), not its bytes: hashing gigabytes per listing would not do. */
  digest: string;
  parameterCount: number;
  /** How the weights are stored, as llama.cpp names it: "F16", "Q4_K_M"… */
  fileType: string;
  /** GGUF's general.architecture, e.g. "llama" (Ollama's "family"). */
  architecture: string;
  /** The context the model was loaded with (tokens). */
  contextLength: number;
  chatTemplate: string;
  supportsTools: boolean;
  supportsVision: boolean;
  /** The header's scalar metadata (arrays such as the vocabulary are left out, as Ollama does). */
  metadata: Record<string, string | number | boolean>;
}

/** Props and model list of llama-server (tools/server/server-context.cpp, get_props and get_models). */
interface LlamaProps {
  model_path?: string;
  chat_template?: string;
  chat_template_caps?: { supports_tools?: boolean };
  modalities?: { vision?: boolean };
}
interface LlamaModels {
  data?: { meta?: { n_params?: number; size?: number; ftype?: string; n_ctx?: number } }[];
}

/** Read the facts of the model behind `lease` (which the caller releases). */
export async function readModelFacts(lease: BackendLease): Promise<ModelFacts> {
  const ask = async <T>(path: string): Promise<T> => {
    const answer = await httpRequest(new URL(path, lease.url), { headers: { Authorization: `Bearer ${lease.apiKey}` }, timeoutMs: 10_000 });
    if (!answer.ok) throw new Error(`llama-server answered ${answer.status} to ${path}`);
    return (answerJson(answer) ?? {}) as T;
  };
  const [props, models] = await Promise.all([ask<LlamaProps>('/props'), ask<LlamaModels>('/v1/models')]);
  const meta = models.data?.[0]?.meta ?? {};
  const path = props.model_path ?? '';
  const file = await stat(path);
  const header = await readGgufHeader(path, file.size);
  const metadata: ModelFacts['metadata'] = {};
  for (const [key, value] of header.metadata) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') metadata[key] = value;
  }
  const architecture = typeof metadata['general.architecture'] === 'string' ? metadata['general.architecture'] : 'unknown';
  return {
    modelId: lease.modelId,
    path,
    sizeBytes: file.size,
    modifiedAt: file.mtime.toISOString(),
    digest: createHash('sha256').update(`${path}\0${file.size}\0${file.mtimeMs}`).digest('hex'),
    parameterCount: meta.n_params ?? 0,
    fileType: meta.ftype ?? 'unknown',
    architecture,
    contextLength: meta.n_ctx ?? 0,
    chatTemplate: props.chat_template ?? '',
    supportsTools: props.chat_template_caps?.supports_tools === true,
    supportsVision: props.modalities?.vision === true,
    metadata,
  };
}
