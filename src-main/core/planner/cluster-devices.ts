// The devices a plan can use, in the order llama.cpp will list them: every RPC server's devices
// in `--rpc` order (each server's own devices in its order), then this machine's GPUs.
// Upstream: src/llama.cpp `llama_prepare_model_devices` ("add RPC servers at the front of the
// list"); common/arg.cpp `add_rpc_devices` registers one backend per `--rpc` endpoint, in order.
import type { DeviceInfo } from '../../shared/devices.js';
import type { PlanDevice } from './plan-types.js';

/** A peer as the planner needs it: who, and its devices (where its RPC server is reached is the load's business). */
export interface PlanPeer {
  id: string;
  name: string;
  devices: DeviceInfo[];
}

/** A device of this machine, with its ggml backend when known (`ListedDevice` from native/devices.ts has it). */
export interface LocalDevice extends DeviceInfo {
  backend?: string;
  /** ggml's `device_id` (e.g. a PCI bus id), when known: one GPU seen by two backends is used once. */
  deviceId?: string;
}

/** Name of this machine in plan messages. */
const THIS_MACHINE = 'this machine';

// llama.cpp never offloads to these: the CPU is the host itself, and ACCEL devices (BLAS, AMX)
// only speed up the CPU (`GGML_BACKEND_DEVICE_TYPE_CPU`/`_ACCEL` are skipped in the device list).
const HOST_BACKENDS = /^(CPU|BLAS|AMX|ACCEL)/i;

/**
 * Every device a plan can use, with stable ids, in llama.cpp's device order. The order of
 * `peers` is the `--rpc` order. A peer's CPU counts: over RPC every remote device is a GPU to
 * llama.cpp. This machine's CPU does not: it is the host.
 */
export function clusterDevices(local: readonly LocalDevice[], peers: readonly PlanPeer[]): PlanDevice[] {
  const remote = peers.flatMap((peer) =>
    peer.devices.map((device): PlanDevice => ({
      id: `${peer.id}/${device.name}`,
      name: device.name,
      description: device.description,
      machine: peer.name,
      peerId: peer.id,
      totalBytes: device.totalBytes,
      freeBytes: device.freeBytes,
    })),
  );
  const seen = new Set<string>();
  const gpus = local
    .filter((device) => !HOST_BACKENDS.test(device.backend ?? device.name))
    .filter((device) => {
      // llama.cpp skips a GPU whose device_id it already uses (say CUDA0 and Vulkan0 on one card); the first one wins.
      if (device.deviceId === undefined) return true;
      if (seen.has(device.deviceId)) return false;
      seen.add(device.deviceId);
      return true;
    })
    .map((device): PlanDevice => ({
      id: `local/${device.name}`,
      name: device.name,
      description: device.description,
      machine: THIS_MACHINE,
      peerId: null,
      totalBytes: device.totalBytes,
      freeBytes: device.freeBytes,
    }));
  return [...remote, ...gpus];
}
