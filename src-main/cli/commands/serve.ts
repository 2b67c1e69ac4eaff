import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { MachineStatus } from '../../core/api/contract.js';
import { isLoopback } from '../../core/net/host-check.js';
import { startWebServer } from '../../core/api/web-server.js';
import { appRoot } from '../../core/base/app-root.js';
import { hearthPaths } from '../../core/base/paths.js';
import { loadOrMakeCertificate, type SelfSignedCertificate } from '../../core/net/self-signed-cert.js';
import { HearthCore } from '../../core/host/hearth-core.js';
import { DEFAULT_API_PORT } from '../../core/inference/openai-gateway.js';
import { DEFAULT_LINK_PORT } from '../../core/peers/cluster-node.js';
import { DEFAULT_CONTROL_PORT, DEFAULT_RPC_PORT } from '../../core/worker/run-worker.js';
import type { Command, CommandContext } from '../command.js';
import { formatBytes } from '../format.js';
import { portFlag, untilStopped } from '../long-running.js';

/** The web UI's default port when none is given. */
export const DEFAULT_WEB_PORT = 7434;

/** `hearth serve`: the worker plus the UI over HTTP (HTTPS off loopback), until stopped. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'worker + the UI over HTTP, HTTPS off loopback (for headless boxes)',
  usage: `hearth serve [--host H] [--port N] [--api-port N] [--rpc-port N] [--control-port N] [--link-port N] [--no-discovery] [--cache-dir D] [--models DIR]... [--json]   (defaults: 127.0.0.1, ${DEFAULT_WEB_PORT}, ${DEFAULT_API_PORT}, ${DEFAULT_RPC_PORT}, ${DEFAULT_CONTROL_PORT}; 0 = any free port; the OpenAI API of a loaded model listens on the same host)`,
  options: { host: { type: 'string' }, port: { type: 'string' }, 'api-port': { type: 'string' }, 'rpc-port': { type: 'string' }, 'control-port': { type: 'string' }, 'cache-dir': { type: 'string' }, 'link-port': { type: 'string' }, 'no-discovery': { type: 'boolean' }, models: { type: 'string', multiple: true } },
  run: serve,
};

async function serve({ flags, out }: CommandContext): Promise<number> {
  const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
  const port = portFlag(flags.port, DEFAULT_WEB_PORT, '--port');
  const rpcPort = portFlag(flags['rpc-port'], DEFAULT_RPC_PORT, '--rpc-port');
  const controlPort = portFlag(flags['control-port'], DEFAULT_CONTROL_PORT, '--control-port');
  const loopback = isLoopback(host);
  // Off loopback the UI can load models and reach the cluster: require a token.
  const token = loopback ? undefined : randomBytes(18).toString('base64url');
  // The same rule for the OpenAI API: off loopback, clients need a key (shown in the UI).
  const apiKey = loopback ? undefined : randomBytes(24).toString('base64url');

  const core = await HearthCore.start({
    workerPort: rpcPort,
    controlPort,
    linkPort: portFlag(flags['link-port'], DEFAULT_LINK_PORT, '--link-port'),
    discovery: !flags['no-discovery'],
    apiHost: host,
    apiPort: portFlag(flags['api-port'], DEFAULT_API_PORT, '--api-port'),
    apiKey,
    modelDirs: Array.isArray(flags.models) ? flags.models.map((dir) => path.resolve(dir)) : undefined,
    tensorCacheDir: typeof flags['cache-dir'] === 'string' ? path.resolve(flags['cache-dir']) : undefined,
  });
  // Off loopback, HTTPS only: this machine's own certificate, the same at every start, checked by its fingerprint.
  const certificate = loopback ? undefined : await webCertificate(host);
  const web = await startWebServer({ host, port, staticDir: path.join(appRoot(), 'dist', 'renderer'), hearth: core, token, tls: certificate, uploadDir: core.uploadDir });
  const url = token ? `${web.url}?token=${token}` : web.url;
  const said = certificate
    ? `Hearth is serving its UI at ${url}\nIts certificate is its own (self-signed): your browser will warn. Go on only if the certificate it shows has this SHA-256 fingerprint:\n  ${certificate.fingerprint256}`
    : `Hearth is serving its UI at ${url}`;
  out.event({ event: 'ready', url, host, port: Number(new URL(web.url).port), fingerprint: certificate?.fingerprint256 ?? null }, said);

  let lastWorker = '';
  core.on('status', (status) => reportStatus(status, out));
  function reportStatus(status: MachineStatus, output: typeof out): void {
    const { worker } = status;
    if (worker.state === 'building' && worker.build) output.progress(`building llama.cpp tools: ${worker.build.step}`, worker.build.fraction);
    const summary = `${worker.state}|${worker.endpoint}|${worker.error}`;
    if (summary === lastWorker) return;
    lastWorker = summary;
    output.event({ event: 'status', status }, describeWorker(status));
  }

  await untilStopped();
  out.note('Stopping…');
  await web.close();
  await core.stop();
  return 0;
}

/** The LAN UI's certificate, kept in the data folder: for this machine's name, and the address served on when it is one. */
function webCertificate(host: string): Promise<SelfSignedCertificate> {
  const name = os.hostname();
  const altNames = [...new Set([name, 'localhost', '127.0.0.1', ...(host === '0.0.0.0' || host === '::' ? [] : [host])])];
  return loadOrMakeCertificate(path.join(hearthPaths().dataDir, 'web-ui-certificate.json'), { commonName: `Hearth on ${name}`, altNames });
}

function describeWorker({ worker }: MachineStatus): string | undefined {
  switch (worker.state) {
    case 'serving':
      return `Worker serving on ${worker.endpoint}: ${worker.devices.map((device) => `${device.name} (${device.description}, ${formatBytes(device.freeBytes)} free)`).join(', ')}`;
    case 'error':
      return `Worker error: ${worker.error}`;
    case 'building':
      return 'Building the llama.cpp tools from the bundled source (first start only)…';
    default:
      return undefined;
  }
}
