// A split plan as the UI shows it: each device's part and memory, without the tensor lists and
// llama-server arguments the UI has no use for (a big model's plan carries thousands of tensors).
import type { ModelSummary, PlanView } from '../api/contract.js';
import type { ModelFacts } from '../gguf/inspect-model.js';
import type { SplitPlan } from '../planner/plan-types.js';

/** The UI's view of `plan`; `skipped` are the peers seen but not used. */
export function planView(plan: SplitPlan, skipped: PlanView['skipped']): PlanView {
  const layersTotal = plan.tensorSplit.reduce((sum, value) => sum + value, 0);
  return {
    fits: plan.fits,
    verdict: plan.verdict,
    advice: plan.advice,
    warnings: plan.warnings,
    contextLength: plan.contextLength,
    devices: plan.devices.map((part) => ({
      id: part.device.id,
      name: part.device.name,
      description: part.device.description,
      machine: part.device.machine,
      peerId: part.device.peerId,
      share: layersTotal > 0 ? part.tensorSplit / layersTotal : 0,
      layers: part.layers,
      holdsOutput: part.holdsOutput,
      weightBytes: part.memory.weights,
      kvCacheBytes: part.memory.kvCache,
      computeBytes: part.memory.compute,
      plannedBytes: part.memory.total,
      freeBytes: part.device.freeBytes,
      totalBytes: part.device.totalBytes,
      fits: part.fits,
      shortBytes: part.shortBytes,
    })),
    host: { weightBytes: plan.host.weightBytes, layers: plan.host.layers, holdsOutput: plan.host.holdsOutput },
    excluded: plan.excluded.map((device) => ({ id: device.id, name: device.name, machine: device.machine })),
    skipped,
  };
}

/** The facts of a model file as the UI shows them. */
export function modelSummary(facts: ModelFacts): ModelSummary {
  return {
    path: facts.path,
    fileName: facts.path.split(/[\\/]/).pop() ?? facts.path,
    fileBytes: facts.fileBytes,
    architecture: facts.architecture,
    name: facts.name,
    parameterCount: facts.parameterCount,
    fileType: facts.fileType,
    layers: facts.layers,
    trainedContext: facts.contextLength,
    tensorCount: facts.tensorCount,
    cacheableTensors: facts.cacheable.tensors,
    cacheableBytes: facts.cacheable.bytes,
  };
}
