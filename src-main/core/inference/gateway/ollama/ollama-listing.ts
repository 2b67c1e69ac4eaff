// The loaded model as Ollama's model endpoints describe one (/api/tags, /api/ps, /api/show):
// https://docs.ollama.com/api, the ListResponse, ModelResponse and ShowResponse shapes.
import type { ModelFacts } from './model-facts.js';

/** The Ollama API version this subset follows: clients compare it against what they need. */
export const OLLAMA_API_VERSION = '0.12.0';

// Go's largest duration past now: what Ollama reports for a model kept loaded for good.
const FOREVER_MS = 9_223_372_036_854;

/** The name Ollama's clients see: Ollama's names always carry a tag, ":latest" when none was given. */
export function ollamaName(modelId: string): string {
  return modelId.includes(':') ? modelId : `${modelId}:latest`;
}

/** One entry of /api/tags. */
export function tagsEntry(facts: ModelFacts): Record<string, unknown> {
  const name = ollamaName(facts.modelId);
  return { name, model: name, modified_at: facts.modifiedAt, size: facts.sizeBytes, digest: facts.digest, details: details(facts) };
}

/** One entry of /api/ps: the loaded model stays until it is unloaded in Hearth. */
export function psEntry(facts: ModelFacts, now = Date.now()): Record<string, unknown> {
  const { modified_at: _, ...entry } = tagsEntry(facts);
  // How the model is split across the cluster's GPUs is Hearth's to show (its Model screen), not this API's.
  return { ...entry, expires_at: new Date(now + FOREVER_MS).toISOString(), size_vram: 0, context_length: facts.contextLength };
}

/** The answer of /api/show. */
export function showAnswer(facts: ModelFacts): Record<string, unknown> {
  const capabilities = ['completion', ...(facts.supportsTools ? ['tools'] : []), ...(facts.supportsVision ? ['vision'] : [])];
  return {
    modelfile: `# Served by Hearth from ${facts.path}\nFROM ${facts.path}\nPARAMETER num_ctx ${facts.contextLength}\n`,
    parameters: `num_ctx ${facts.contextLength}`,
    template: facts.chatTemplate,
    details: details(facts),
    model_info: facts.metadata,
    capabilities,
    modified_at: facts.modifiedAt,
  };
}

function details(facts: ModelFacts): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: facts.architecture,
    families: [facts.architecture],
    parameter_size: parameterSize(facts.parameterCount),
    quantization_level: facts.fileType,
  };
}

/** "7.6B", "494.0M": how Ollama writes a parameter count. */
function parameterSize(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  return `${(count / 1e3).toFixed(1)}K`;
}
