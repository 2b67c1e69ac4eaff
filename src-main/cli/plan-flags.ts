// The flags `hearth plan` and `hearth load` share: which peers, which context, which shares.
import type { ParseArgsConfig } from 'node:util';
import type { PeerCoverage } from '../shared/cache-progress.js';
import type { Planned } from '../core/coordinator/planned.js';
import type { PlanOptions } from '../core/planner/plan-types.js';
import { usageError, type FlagValue } from './command.js';
import { formatBytes } from './format.js';

/** The options both commands take. */
export const PLAN_FLAGS = {
  ctx: { type: 'string' },
  peers: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  share: { type: 'string', multiple: true },
  'no-discovery': { type: 'boolean' },
  wait: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Their synopsis. */
export const PLAN_USAGE = '[--ctx N] [--peers HOST:PORT,...] [--exclude DEVICE|PEER]... [--share DEVICE=WEIGHT]... [--no-discovery] [--wait SECONDS]';

type Flags = Record<string, FlagValue>;

/** Peers given by address (their secure-link port, 7436 when left out). */
export function manualPeers(flags: Flags): { host: string; port: number }[] {
  if (typeof flags.peers !== 'string') return [];
  return flags.peers.split(',').filter(Boolean).map((entry) => {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry.trim());
    if (!match) throw usageError(`--peers takes HOST:PORT addresses separated by commas, got "${entry}"`);
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2] ?? 7436) };
  });
}

/** How long to listen for peers on mDNS, in milliseconds. */
export function waitMs(flags: Flags): number {
  if (flags.wait === undefined) return 2000;
  const seconds = Number(flags.wait);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 60) throw usageError('--wait takes a number of seconds from 0 to 60');
  return seconds * 1000;
}

/** The planner's options from the flags. */
export function planOptions(flags: Flags): PlanOptions {
  const options: PlanOptions = {};
  if (flags.ctx !== undefined) {
    const ctx = Number(flags.ctx);
    if (!Number.isInteger(ctx) || ctx < 1) throw usageError(`--ctx takes a context length in tokens, got "${String(flags.ctx)}"`);
    options.contextLength = ctx;
  }
  if (Array.isArray(flags.exclude)) options.exclude = flags.exclude;
  if (Array.isArray(flags.share)) {
    options.shares = {};
    for (const share of flags.share) {
      const at = share.lastIndexOf('=');
      const weight = Number(share.slice(at + 1));
      if (at < 1 || !Number.isFinite(weight)) throw usageError(`--share takes DEVICE=WEIGHT (a device id as hearth plan shows it), got "${share}"`);
      options.shares[share.slice(0, at)] = weight;
    }
  }
  return options;
}

/** A plan for people: the verdict, each device's part, what stays on this machine, each peer's cache coverage when known, and what would fit. */
export function describePlan({ plan, members, skipped }: Planned, coverage: readonly PeerCoverage[] | null = null): string {
  const lines = [plan.verdict, ''];
  const member = (id: string) => members.find((candidate) => candidate.id === id);
  for (const device of plan.devices) {
    const part = [device.layers ? `layers ${device.layers.first}-${device.layers.last}` : 'no layers', device.holdsOutput ? 'output' : null].filter(Boolean).join(' + ');
    const { weights, kvCache, compute } = device.memory;
    const peer = device.device.peerId ? member(device.device.peerId) : undefined;
    lines.push(`  ${device.device.id}  (${device.device.machine}${peer ? ` at ${peer.address.host}:${peer.address.port}` : ''})`);
    lines.push(`    ${part}: ${device.tensors.length} tensors, weights ${formatBytes(weights)} + KV ${formatBytes(kvCache)} + compute ${formatBytes(compute)} = ${formatBytes(device.memory.total)} of ${formatBytes(device.device.freeBytes)} free${device.fits ? '' : `  (${formatBytes(device.shortBytes)} short)`}`);
  }
  const host = plan.host;
  lines.push(`  this machine's CPU: ${host.layers ? `layers ${host.layers.first}-${host.layers.last}, ` : ''}${host.tensors.length} tensors, ${formatBytes(host.weightBytes)}${host.holdsOutput ? ' (output included)' : ''}`);
  for (const device of plan.excluded) lines.push(`  left out: ${device.id}`);
  for (const peer of skipped) lines.push(`  not used: ${peer.name}: ${peer.reason}`);
  if (coverage && coverage.length > 0) lines.push('', 'Cache coverage (the share of each peer already in its cache):', ...coverage.map((peer) => `  ${describeCoverage(peer)}`));
  if (plan.advice.length > 0) lines.push('', 'What would fit:', ...plan.advice.map((line) => `  - ${line}`));
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  // The --rpc endpoints are each load's own (the local ends of its links): named by peer here.
  const rpc = plan.rpcPeers.length > 0 ? `--rpc <${plan.rpcPeers.map((id) => member(id)?.name ?? id).join(',')} through the secure link> ` : '';
  lines.push('', `llama-server ${rpc}${plan.args.join(' ')}`);
  return lines.join('\n');
}

/** One peer's coverage in a line: "worker-a: 3 of 4 entries, 33.00 MiB of 44.00 MiB (75%)". */
export function describeCoverage(coverage: PeerCoverage): string {
  const percent = coverage.shareBytes > 0 ? Math.floor((coverage.cachedBytes / coverage.shareBytes) * 100) : 100;
  const state = coverage.error ? `  (not answering: ${coverage.error})` : coverage.cachedBytes >= coverage.shareBytes ? '  warm' : '';
  return `${coverage.peer}: ${coverage.cachedEntries} of ${coverage.shareEntries} entries, ${formatBytes(coverage.cachedBytes)} of ${formatBytes(coverage.shareBytes)} (${percent}%)${state}`;
}
