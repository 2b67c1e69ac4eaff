import { CACHED_TENSOR_MIN_BYTES, inspectModel } from '../../core/gguf/inspect-model.js';
import { usageError, type Command } from '../command.js';
import { formatBytes, formatCount, table } from '../format.js';

/** `hearth info <model.gguf>`: facts about a model, after checking the file. */
export const infoCommand: Command = {
  name: 'info',
  summary: 'facts about a model',
  usage: 'hearth info <model.gguf> [--tensors] [--json]',
  options: { tensors: { type: 'boolean' } },
  async run({ positionals, flags, out }) {
    const file = positionals[0];
    if (!file) throw usageError('hearth info needs a model file: hearth info <model.gguf>');
    if (positionals.length > 1) throw usageError(`hearth info takes one model file, got ${positionals.length}`);
    const facts = await inspectModel(file);
    const { tensors, ...summary } = facts;
    out.result(flags.tensors ? facts : summary, () => {
      const text = table([
        ['Model', facts.name ?? '(unnamed)'],
        ['Architecture', facts.architecture],
        ['Parameters', `${formatCount(facts.parameterCount)} (${facts.parameterCount})`],
        ['File type', facts.fileType],
        ['File size', `${formatBytes(facts.fileBytes)} (${facts.fileBytes} bytes)`],
        ['Layers', String(facts.layers ?? 'unknown')],
        ['Context length', String(facts.contextLength ?? 'unknown')],
        ['Tensors', String(facts.tensorCount)],
        [`${formatBytes(CACHED_TENSOR_MIN_BYTES)} or more`, `${facts.cacheable.tensors} tensors, ${formatBytes(facts.cacheable.bytes)} (kept in worker caches)`],
        ['GGUF version', String(facts.ggufVersion)],
      ]);
      if (!flags.tensors) return text;
      return `${text}\n\n${tensors.map((tensor) => `${tensor.name}  [${tensor.dimensions.join(', ')}]  ${formatBytes(tensor.byteSize)}`).join('\n')}`;
    });
    return 0;
  },
};
