// node-llama-cpp's GGUF header reader, loaded on its own. The package's entry point loads all of
// node-llama-cpp (its bindings' loader among them), about 0.5 s; the reader alone takes about
// 0.1 s, and every command that opens a model pays it. node-llama-cpp is pinned exactly
// (package.json), so the reader's place in the package is fixed; a test checks that it is there
// and reads a model.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { readGgufFileInfo as ReadGgufFileInfo } from 'node-llama-cpp';
import { nodeLlamaCppDir } from '../native/llama-source.js';

type Reader = typeof ReadGgufFileInfo;

/** The reader's module in the installed node-llama-cpp. */
export function ggufReaderPath(packageDir = nodeLlamaCppDir()): string {
  return path.join(packageDir, 'dist', 'gguf', 'readGgufFileInfo.js');
}

let reader: Promise<Reader> | undefined;

/** node-llama-cpp's `readGgufFileInfo`, without loading the rest of node-llama-cpp. */
export async function readGgufFileInfo(...args: Parameters<Reader>): ReturnType<Reader> {
  reader ??= import(pathToFileURL(ggufReaderPath()).href).then((module: { readGgufFileInfo: Reader }) => module.readGgufFileInfo);
  return (await reader)(...args);
}
