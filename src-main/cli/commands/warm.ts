import type { WarmupProgress } from '../../shared/cache-progress.js';
import { loadOrMakeManifest } from '../../core/gguf/manifest/load-or-make-manifest.js';
import { announceLoad } from '../../core/inference/load-model.js';
import { hearthPaths } from '../../core/base/paths.js';
import { assertPlanFits } from '../../core/planner/plan-split.js';
import { peerShares } from '../../core/warmup/peer-shares.js';
import { warmUp, type PeerWarmupReport } from '../../core/warmup/warm-up.js';
import { usageError, type Command, type FlagValue } from '../command.js';
import { formatBytes } from '../format.js';
import { parseSize } from '../../shared/parse-size.js';
import { openClusterPlan } from '../cluster-plan.js';
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
    const { dataDir } = hearthPaths();
    // The same plan `hearth load` will make, so the entries warmed are the ones it asks for.
    const { links, plan } = await openClusterPlan(model, flags, dataDir, out);
    const cancel = new AbortController();
    // The first Ctrl-C stops the streams cleanly; a second one does not wait for that.
    const onSignal = () => (cancel.signal.aborted ? process.exit(CANCELLED_EXIT) : cancel.abort());
    try {
      assertPlanFits(plan);
      const manifest = await loadOrMakeManifest({ model: plan.model.path, dataDir, onProgress: ({ bytesDone, bytesTotal }) => out.progress('hashing tensors (once per model file)', bytesTotal > 0 ? bytesDone / bytesTotal : null) });
      const shares = peerShares(plan, manifest, links.members);
      if (shares.length === 0) {
        out.event({ event: 'done', peers: [] }, 'Nothing to warm: the plan gives no peer a tensor its cache would hold (only tensors over 10 MiB are cached).');
        return 0;
      }
      // Registered and pinned first: what arrives is in the model's view and safe from eviction until the load.
      await announceLoad(plan, manifest, links.members);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const latest = new Map<string, WarmupProgress>();
      const reports = await warmUp({
        shares, manifest, members: links.members, maxBytesPerSecond, signal: cancel.signal,
        onProgress: (progress) => {
          latest.set(progress.peerId, progress);
          if (out.json) out.event({ event: 'progress', ...progress });
          else out.progress(progressLine([...latest.values()]), overall([...latest.values()]));
        },
      }).catch((error: unknown) => {
        // Stopped while asking the peers what they hold, before any peer's warm-up began.
        if (cancel.signal.aborted) return [];
        throw error;
      });
      const peers = reports.map((report) => ({ name: report.peer, ...report }));
      if (cancel.signal.aborted || reports.some((report) => report.state === 'cancelled')) {
        out.event({ event: 'cancelled', peers }, ['Cancelled. What arrived stays in each cache; run hearth warm again to continue from there.', ...reports.map(describeReport)].join('\n'));
        return CANCELLED_EXIT;
      }
      out.event({ event: 'done', peers }, reports.map(describeReport).join('\n'));
      return reports.every((report) => report.state === 'done') ? 0 : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await links.close();
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
