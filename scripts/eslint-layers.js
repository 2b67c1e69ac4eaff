// Hearth's layers, enforced on every relative import (in the spirit of VS Code's import rules).
// A file may import its own module and anything in a layer below; the domain modules are ordered
// too, so none of them imports one listed after it. The renderer sees only the UI contract and
// the shared folder. Tests, benchmarks and scripts are outside the layers.
import path from 'node:path';

/** Bottom to top. Each entry is a module: a folder (or file) of src-main. */
const LAYERS = [
  { layer: 'shared', modules: ['shared'] },
  { layer: 'base', modules: ['core/base', 'core/net', 'core/wasm'] },
  // Ordered: a domain module imports only those before it.
  { layer: 'domain', ordered: true, modules: ['core/cache', 'core/gguf', 'core/native', 'core/peers', 'core/worker-api', 'core/worker', 'core/planner', 'core/warmup', 'core/inference'] },
  { layer: 'coordinator', modules: ['core/coordinator'] },
  { layer: 'host', modules: ['core/host', 'core/api'] },
  { layer: 'shell', modules: ['app', 'cli', 'preload'] },
];

/** What the renderer may import from src-main. */
const RENDERER_MAY_IMPORT = ['core/api/contract.ts', 'shared'];

/** The module and rank of a path relative to src-main, or null when it is in no layer. */
function placeOf(relative) {
  let rank = 0;
  for (const { layer, ordered, modules } of LAYERS) {
    for (const [index, module] of modules.entries()) {
      if (relative === module || relative.startsWith(`${module}/`) || relative === `${module}.ts`) {
        return { layer, module, rank: ordered ? rank + index : rank };
      }
    }
    rank += ordered ? modules.length : 1;
  }
  return null;
}

function resolveTarget(fromFile, specifier) {
  return path.resolve(path.dirname(fromFile), specifier).replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts');
}

const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep each import within Hearth\'s layers: shared ← base ← domain (in order) ← coordinator ← host ← shell; the renderer sees the contract and shared only.' },
    schema: [],
    messages: {
      upward: '{{from}} ({{fromLayer}}) may not import {{to}} ({{toLayer}}): layers go shared ← base ← domain ← coordinator ← host ← app/cli, and domain modules in the order of scripts/eslint-layers.js. Move the shared part down, or pass it in.',
      outside: 'src-main/{{from}} imports {{to}}, which is in no layer of scripts/eslint-layers.js: put it in one.',
      renderer: 'The renderer may import only src-main/core/api/contract.ts and src-main/shared/ from src-main, not {{to}}.',
    },
  },
  create(context) {
    const root = context.cwd;
    const mainRoot = path.join(root, 'src-main');
    const file = context.filename;
    const inRenderer = file.startsWith(path.join(root, 'src-renderer') + path.sep);
    const fromRelative = path.relative(mainRoot, file).split(path.sep).join('/');
    const from = inRenderer ? null : fromRelative.startsWith('..') ? undefined : placeOf(fromRelative);
    if (from === undefined) return {};

    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolveTarget(file, specifier);
      const toRelative = path.relative(mainRoot, target).split(path.sep).join('/');
      if (toRelative.startsWith('..')) return; // the renderer's own files, node_modules
      if (inRenderer) {
        if (!RENDERER_MAY_IMPORT.some((allowed) => toRelative === allowed || toRelative.startsWith(`${allowed}/`))) context.report({ node, messageId: 'renderer', data: { to: `src-main/${toRelative}` } });
        return;
      }
      const to = placeOf(toRelative);
      if (!from || !to) return context.report({ node, messageId: 'outside', data: { from: fromRelative, to: `src-main/${toRelative}` } });
      if (to.module === from.module) return;
      if (to.rank > from.rank || (to.rank === from.rank && from.layer === 'domain')) {
        context.report({ node, messageId: 'upward', data: { from: from.module, fromLayer: from.layer, to: to.module, toLayer: to.layer } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

/** The plugin eslint.config.js loads. */
export default { rules: { layers } };
