// A machine status and a model session for the tray's tests, changed only where a test says.
import type { MachineStatus, ModelSession, WorkerStatus } from '../../src-main/core/api/contract.js';

export function machine(worker: Partial<WorkerStatus> = {}): MachineStatus {
  return {
    hostname: 'box',
    platform: 'linux',
    arch: 'x64',
    hearthVersion: '0.1.0',
    llamaRelease: 'b1234',
    rpcProtocol: '3.0.0',
    worker: { state: 'serving', endpoint: '127.0.0.1:50052', devices: [], build: null, error: null, activity: 'idle', cache: null, ...worker },
    llamaServer: { state: 'ready', build: null, error: null },
    keepWarm: { state: 'off', model: null, peers: [], maxBytesPerSecond: 1, error: null },
  };
}

export function session(change: { warmup?: ModelSession['warmup']; load?: Partial<ModelSession['load']> } = {}): ModelSession {
  return {
    model: { fileName: 'tiny.gguf' } as ModelSession['model'],
    choices: { contextLength: null, shares: {}, exclude: [] },
    plan: null,
    planError: null,
    coverage: [],
    warmup: change.warmup ?? null,
    load: { state: 'idle', step: null, fraction: null, cache: [], samples: [], error: null, logTail: [], api: null, notice: null, peerBack: null, ...change.load },
  };
}

export function warmup(state: NonNullable<ModelSession['warmup']>['state'], bytesDone = 0, bytesTotal = 0): ModelSession['warmup'] {
  const peer = { peerId: 'p', peer: 'p', state: 'pushing', bytesDone, bytesTotal } as NonNullable<ModelSession['warmup']>['peers'][number];
  return { state, hashing: state === 'hashing' ? 0.25 : null, peers: [peer], samples: [], error: null };
}
