// An unpatched llama.cpp RPC build of the same release, to prove Hearth stays compatible with
// upstream: built once (about a minute: the RPC server and its module only) into the user cache.
import { cmakeOptions } from '../../src-main/core/native/build-options.js';
import { findLlamaSource } from '../../src-main/core/native/llama-source.js';
import { ensureBuild, locateBuild, type LlamaTools } from '../../src-main/core/native/tools.js';

/** Upstream's `ggml-rpc-server` and RPC backend module (`libggml-rpc`), without Hearth's patches. */
export async function ensureUpstreamRpc(): Promise<LlamaTools> {
  const source = await findLlamaSource();
  const location = locateBuild(source, {
    release: source.release,
    patches: [],
    targets: ['ggml-rpc-server'],
    options: cmakeOptions(),
    platform: process.platform,
    arch: process.arch,
  });
  let last = '';
  return ensureBuild(location, {
    onProgress: ({ step, fraction }) => {
      const line = `[upstream rpc build] ${fraction === null ? '' : `${Math.floor(fraction * 10) * 10}% `}${step}`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    },
  });
}
