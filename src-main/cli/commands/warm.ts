import type { WarmupProgress } from '../../shared/cache-progress.js';
import { hearthPaths } from '../../core/base/paths.js';
import type { WarmRun } from '../../core/coordinator/warm-run.js';
import type { PeerWarmupReport } from '../../core/warmup/warm-up.js';
import { usageError, type Command, type FlagValue } from '../command.js';
import { formatBytes } from '../format.js';
import { parseSize } from '../../shared/parse-size.js';
import { openCoordinator } from '../open-coordinator.js';
import { PLAN_FLAGS, PLAN_USAGE } from '../plan-flags.js';

/** Exit code of a warm-up cancelled with Ctrl-C (128 + SIGINT, as shells report it). */
const CANCELLED_EXIT = 130;

/** `hearth warm <model.gguf>`: bring each peer's cache up to its share of the plan before the load. */
export const warmCommand: Command = {
  name: 'warm',
  summary: 'pre-warm each peer\'s cache for the plan: its share filled from its own disk, another member, or pushed from here',
  usage: `hearth warm <model.gguf> ${PLAN_USAGE} [--max-rate SIZE] [--json]   (--max-rate: per peer, e.g. 50M for 50 MB/s; Ctrl-C stops, what arrived stays, run it again to continue)`,
  options: { ...PLAN_FLAGS, 'max-rate': { type: 'string' } },
  async run({ positionals, flags, out }) {
    const model = positionals[0];
    if (!model || positionals.length > 1) throw usageError('hearth warm takes one model file: hearth warm <model.gguf>');
    const maxBytesPerSecond = rateFlag(flags['max-rate']);
    // The same plan `hearth load` will make, so the entries warmed are the ones it asks for.
    const { coordinator, planned, close } = await openCoordinator(model, flags, hearthPaths().dataDir, out);
    let run: WarmRun | null = null;
    // The first Ctrl-C stops the streams cleanly; a second one does not wait for that.
    const onSignal = () => (run?.cancelled ? process.exit(CANCELLED_EXIT) : run?.cancel());
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      run = coordinator.warm(planned, { maxBytesPerSecond });
      const latest = new Map<string, WarmupProgress>();
      run.on('hashing', (fraction) => out.progress('hashing tensors (once per model file)', fraction));
      run.on('progress', (progress) => {
        latest.set(progress.peerId, progress);
        if (out.json) out.event({ event: 'progress', ...progress });
        else out.progress(progressLine([...latest.values()]), overall([...latest.values()]));
      });
      const report = await run.result;
      const peers = report.peers.map((peer) => ({ name: peer.peer, ...peer }));
      switch (report.state) {
        case 'nothing':
          out.event({ event: 'done', peers: [] }, 'Nothing to warm: the plan gives no peer a tensor its cache would hold (tensors of 1 MiB or more are cached).');
          return 0;
        case 'cancelled':
          out.event({ event: 'cancelled', peers }, ['Cancelled. What arrived stays in each cache; run hearth warm again to continue from there.', ...report.peers.map(describeReport)].join('\n'));
          return CANCELLED_EXIT;
        default:
          out.event({ event: 'done', peers }, report.peers.map(describeReport).join('\n'));
          return report.state === 'done' ? 0 : 1;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await close();
    }
  },
};

function rateFlag(value: FlagValue): number | undefined {
  if (value === undefined) return undefined;
  const bytes = typeof value === 'string' ? parseSize(value.replace(/\/s$/i, '')) : undefined;
  if (bytes === undefined || bytes < 1) throw usageError(`--max-rate takes a rate per peer such as 50M (50 MB/s) or 1GiB, got "${String(value)}"`);
  return bytes;
}

function overall(peers: readonly WarmupProgress[]): number {
  const total = peers.reduce((sum, peer) => sum + peer.bytesTotal, 0);
  return total > 0 ? peers.reduce((sum, peer) => sum + peer.bytesDone, 0) / total : 1;
}

/** "warming worker-a 45% 12.3 MiB/s 3 s left · worker-b done". */
function progressLine(peers: readonly WarmupProgress[]): string {
  return `warming ${peers.map((peer) => {
    if (peer.state !== 'filling' && peer.state !== 'fetching' && peer.state !== 'pushing') return `${peer.peer} ${peer.state}`;
    const percent = peer.bytesTotal > 0 ? Math.floor((peer.bytesDone / peer.bytesTotal) * 100) : 100;
    const left = peer.secondsLeft === null ? '' : ` ${Math.ceil(peer.secondsLeft)} s left`;
    return `${peer.peer} ${percent}% ${peer.state} ${formatBytes(peer.bytesPerSecond)}/s${left}`;
  }).join(' · ')}`;
}

function describeReport(report: PeerWarmupReport): string {
  const moved = `${formatBytes(report.pushedBytes)} pushed, ${formatBytes(report.filledBytes)} filled from its own disk, ${formatBytes(report.fetchedBytes)} fetched from other members`;
  const had = report.cachedEntries > 0 ? `; ${report.cachedEntries} entries (${formatBytes(report.cachedBytes)}) were already there` : '';
  const status = report.state === 'done' ? 'warm' : report.state === 'failed' ? `FAILED: ${report.error}` : report.state;
  return `${report.peer}: ${status}: ${report.entriesDone} of ${report.entriesTotal} entries, ${formatBytes(report.bytesDone)} of ${formatBytes(report.bytesTotal)} (${moved}${had}) in ${report.seconds.toFixed(1)} s`;
}
