// Which device receives each tensor of the file, given where llama.cpp puts each layer.
import type { TensorFacts } from '../gguf/inspect-model.js';
import type { LayerAssignment } from './split-points.js';
import { tensorRole } from './tensor-roles.js';

/** The tensors each device receives, those the host keeps, and names the planner could not place. */
export interface TensorPlacement {
  /** Per device index, in file order. */
  devices: TensorFacts[][];
  host: TensorFacts[];
  unknown: TensorFacts[];
}

/**
 * Place every tensor: blocks with their layer's device, the output tensors with the output
 * layer, the input (token embedding) on the host. A model without `output.weight` reuses the
 * token embedding as its output matrix: llama.cpp then loads a second copy of
 * `token_embd.weight` on the output layer's device (`TENSOR_DUPLICATED`, src/models/llama.cpp).
 */
export function placeTensors(tensors: readonly TensorFacts[], architecture: string, assignment: LayerAssignment, deviceCount: number): TensorPlacement {
  const devices = Array.from({ length: deviceCount }, () => new Set<TensorFacts>());
  const host = new Set<TensorFacts>();
  const unknown: TensorFacts[] = [];
  const put = (where: number | 'cpu', tensor: TensorFacts) => void (where === 'cpu' ? host : devices[where]!).add(tensor);
  const tiedOutput = !tensors.some((tensor) => tensor.name === 'output.weight');
  for (const tensor of tensors) {
    const role = tensorRole(tensor.name, architecture);
    switch (role.kind) {
      case 'input':
        put('cpu', tensor);
        if (tiedOutput && tensor.name === 'token_embd.weight') put(assignment.output, tensor);
        break;
      case 'output':
        put(assignment.output, tensor);
        break;
      case 'layer':
        // A block number past block_count never loads (llama.cpp refuses the file): report it, do not guess.
        if (role.layer < assignment.layers.length) put(assignment.layers[role.layer]!, tensor);
        else unknown.push(tensor);
        break;
      case 'every-layer':
        for (const where of assignment.layers) put(where, tensor);
        break;
      case 'unknown':
        unknown.push(tensor);
        break;
    }
  }
  // File order within each list (the duplicated embedding may have been added out of order).
  const order = new Map(tensors.map((tensor, index) => [tensor, index]));
  const inFileOrder = (set: Set<TensorFacts>) => [...set].sort((a, b) => order.get(a)! - order.get(b)!);
  return { devices: devices.map(inFileOrder), host: inFileOrder(host), unknown };
}
