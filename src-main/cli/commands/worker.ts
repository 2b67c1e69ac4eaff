import path from 'node:path';
import { hearthPaths } from '../../core/base/paths.js';
import { WORKER_TARGETS } from '../../core/native/build-options.js';
import { ensureTools } from '../../core/native/tools.js';
import { ClusterNode, DEFAULT_LINK_PORT } from '../../core/peers/cluster-node.js';
import type { SilentPeer } from '../../core/peers/link/link-server.js';
import { DEFAULT_CONTROL_PORT, DEFAULT_RPC_PORT, runWorker } from '../../core/worker/run-worker.js';
import { usageError, type Command } from '../command.js';
import { formatBytes } from '../format.js';
import { parseSize } from '../../shared/parse-size.js';
import { portFlag, untilStopped } from '../long-running.js';
import { runServiceCommand, wantsService } from '../service/service-command.js';

/** `hearth worker`: this machine's GPU as a cached RPC worker, headless, until stopped. */
export const workerCommand: Command = {
  name: 'worker',
  summary: 'offer this machine\'s devices as a cached llama.cpp RPC worker',
  usage: `hearth worker [--cache-dir D] [--cache-max SIZE] [--models DIR]... [--port N] [--rpc-port N] [--link-port N] [--link-host H] [--no-discovery] [--open-lan] [--install-service | --uninstall-service] [--json]   (defaults: ${DEFAULT_CONTROL_PORT}, ${DEFAULT_RPC_PORT}, ${DEFAULT_LINK_PORT}, 0.0.0.0)`,
  options: {
    'cache-dir': { type: 'string' },
    'cache-max': { type: 'string' },
    models: { type: 'string', multiple: true },
    port: { type: 'string' },
    'rpc-port': { type: 'string' },
    'link-port': { type: 'string' },
    'link-host': { type: 'string' },
    'no-discovery': { type: 'boolean' },
    'open-lan': { type: 'boolean' },
    // Run this command, with the flags above, under the platform's service manager (or stop doing so).
    'install-service': { type: 'boolean' },
    'uninstall-service': { type: 'boolean' },
  },
  async run({ flags, out }) {
    if (wantsService(flags)) return runServiceCommand({ flags, out, options: workerCommand.options });
    let capBytes: number | undefined;
    if (typeof flags['cache-max'] === 'string') {
      capBytes = parseSize(flags['cache-max']);
      if (capBytes === undefined) throw usageError(`--cache-max takes a size such as 50G or 512MiB, got "${flags['cache-max']}"`);
    }
    // Relative to where the user typed it; the worker checks that each exists, and keeps the list.
    const modelDirs = Array.isArray(flags.models) ? flags.models.map((dir) => path.resolve(dir)) : undefined;
    const cacheRoot = typeof flags['cache-dir'] === 'string' ? path.resolve(flags['cache-dir']) : path.join(hearthPaths().cacheDir, 'tensors');
    // A worker runs ggml-rpc-server only: llama-server is built where and when a model is first loaded.
    const tools = await ensureTools({ targets: WORKER_TARGETS, onProgress: ({ step, fraction }) => out.progress(`building the worker's llama.cpp tools: ${step}`, fraction) });
    if (flags['open-lan']) {
      out.note('WARNING: --open-lan exposes ggml-rpc-server itself on every network interface, without authentication or encryption.\nAnyone who can reach this machine can use its GPU and read or write its memory; llama.cpp warns never to do this on an untrusted network.');
    }
    const worker = await runWorker({
      tools,
      cacheRoot,
      capBytes,
      modelDirs,
      dataDir: hearthPaths().dataDir,
      host: '127.0.0.1',
      rpcHost: flags['open-lan'] ? '0.0.0.0' : undefined,
      rpcPort: portFlag(flags['rpc-port'], DEFAULT_RPC_PORT, '--rpc-port'),
      controlPort: portFlag(flags.port, DEFAULT_CONTROL_PORT, '--port'),
    });
    const cluster = await ClusterNode.start({
      dataDir: hearthPaths().dataDir,
      worker,
      release: tools.release,
      linkHost: typeof flags['link-host'] === 'string' ? flags['link-host'] : '0.0.0.0',
      linkPort: portFlag(flags['link-port'], DEFAULT_LINK_PORT, '--link-port'),
      discovery: !flags['no-discovery'],
      mdnsHost: typeof flags['link-host'] === 'string' && flags['link-host'] !== '0.0.0.0' ? flags['link-host'] : undefined,
    }).catch(async (error: unknown) => {
      await worker.stop();
      throw error;
    });
    worker.attachCluster(cluster);
    cluster.on('link-refused', (failure: { address: string; reason: string }) =>
      out.event({ event: 'link-refused', ...failure }, `Refused a secure link from ${failure.address}: ${failure.reason}`));
    cluster.on('peer-silent', (peer: SilentPeer) =>
      out.event({ event: 'peer-silent', ...peer }, `${peer.name ?? `The member at ${peer.address}`} ${peer.why === 'silent' ? 'stopped answering its heartbeat' : 'reset its heartbeat'}: closed its ${peer.streams} stream(s), the worker is free for another coordinator`));
    const status = worker.service.status;
    const cache = worker.service.cache.summary();
    out.event(
      {
        event: 'ready',
        rpc: status.endpoint,
        control: worker.control.url,
        linkPort: cluster.linkPort,
        deviceId: cluster.identity.deviceId,
        fingerprint: cluster.fingerprint,
        cacheDir: cache.dir,
        cacheMaxBytes: cache.capBytes,
        modelDirs: worker.transfer.models.dirs,
        devices: status.devices,
        rpcProtocol: status.rpcProtocol,
      },
      [
        `Worker serving on ${status.endpoint} (RPC protocol ${status.rpcProtocol}), control API at ${worker.control.url}`,
        `Secure link on port ${cluster.linkPort}, cluster ${cluster.fingerprint}`,
        ...status.devices.map((device) => `  ${device.name}: ${device.description}, ${formatBytes(device.freeBytes)} free of ${formatBytes(device.totalBytes)}`),
        `Cache ${cache.dir}: ${cache.entries} entries, ${formatBytes(cache.usedBytes)} of ${formatBytes(cache.capBytes)}`,
        ...worker.transfer.models.dirs.map((dir) => `  fills from models in ${dir}`),
      ].join('\n'),
    );
    worker.service.on('status', (next: typeof status) => out.event({ event: 'status', worker: next }, next.state === 'restarting' ? `Worker restarting: ${next.lastError}` : `Worker ${next.state}`));
    worker.service.on('cache', (event: { kind: string }) => out.event({ event: 'cache', ...event }));
    await untilStopped();
    out.note('Stopping…');
    await cluster.stop();
    await worker.stop();
    return 0;
  },
};
