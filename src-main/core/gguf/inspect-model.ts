import { open, stat } from 'node:fs/promises';
import { readGgufFileInfo } from './gguf-file-info.js';
import { HearthError } from '../errors.js';
import { elementCount, fileTypeName, tensorByteSize } from './ggml-types.js';

/** Upstream llama.cpp's RPC client sends a hash instead of the data for tensors larger than this (ggml-rpc.cpp `HASH_THRESHOLD`). */
export const RPC_HASH_THRESHOLD = 10 * 1024 * 1024;

/**
 * Hearth caches every tensor of at least this size: its patched RPC client sends by hash every
 * tensor the manifest lists, however small (patch 0005). Below it, the round trip that asks
 * costs about what sending the bytes does.
 */
export const CACHED_TENSOR_MIN_BYTES = 1024 * 1024;

/** Whether Hearth keeps this tensor in worker caches (and lists it in the model's manifest). */
export function isCachedTensor(tensor: { byteSize: number }): boolean {
  return tensor.byteSize >= CACHED_TENSOR_MIN_BYTES;
}

/** One tensor of a model and where its bytes sit in the file. */
export interface TensorFacts {
  name: string;
  ggmlType: number;
  dimensions: number[];
  /** Absolute offset of the tensor's data in the file. */
  fileOffset: number;
  byteSize: number;
}

/** What Hearth knows about a GGUF model after checking it. */
export interface ModelFacts {
  path: string;
  fileBytes: number;
  ggufVersion: number;
  architecture: string;
  name: string | null;
  parameterCount: number;
  fileType: string;
  layers: number | null;
  contextLength: number | null;
  tensorCount: number;
  /** Tensors above the RPC cache threshold: these are what worker caches hold. */
  cacheable: { tensors: number; bytes: number };
  tensors: TensorFacts[];
}

// Far above any real model; a count past these is a damaged or hostile header.
const MAX_TENSORS = 1_000_000;
const MAX_METADATA_ENTRIES = 1_000_000;
const HEADER_BYTES = 24; // magic, version, tensor count, metadata count

/** Check a model file and read its facts; any problem becomes a HearthError naming the file. */
export async function inspectModel(filePath: string): Promise<ModelFacts> {
  return (await inspectGguf(filePath)).facts;
}

/** What node-llama-cpp's reader says of a model beyond its facts (the planner reads hyperparameters from it). */
export type GgufInfo = Awaited<ReturnType<typeof readGgufFileInfo>>;

/** `inspectModel`'s facts with the reader's whole answer, from one read of the header. */
export async function inspectGguf(filePath: string): Promise<{ facts: ModelFacts; info: GgufInfo }> {
  const fail = (problem: string, cause?: unknown) => new HearthError('bad-model', `${filePath}: ${problem}`, { cause });

  const fileBytes = await fileSize(filePath, fail);
  const header = await readHeader(filePath, fileBytes, fail);

  let info: GgufInfo;
  try {
    info = await readGgufFileInfo(filePath, { sourceType: 'filesystem', logWarnings: false, spliceSplitFiles: false });
  } catch (cause) {
    throw fail(`the GGUF header is damaged or truncated (${cause instanceof Error ? cause.message : String(cause)})`, cause);
  }

  // node-llama-cpp's reader does not notice a header that runs past the end of the file.
  if (info.infoEndOffset === undefined || info.infoEndOffset > fileBytes) {
    throw fail(`the file is truncated inside its header (${fileBytes} bytes; the header alone needs ${info.infoEndOffset ?? 'more'})`);
  }
  const tensors: TensorFacts[] = [];
  for (const tensor of info.tensorInfo ?? []) {
    const byteSize = tensorByteSize(tensor.ggmlType, tensor.dimensions);
    if (byteSize === undefined) throw fail(`tensor ${tensor.name} has type ${tensor.ggmlType}, which this llama.cpp release cannot load`);
    const fileOffset = Number(tensor.fileOffset);
    if (fileOffset + byteSize > fileBytes) {
      throw fail(`the file is truncated: tensor ${tensor.name} ends at byte ${fileOffset + byteSize} but the file has ${fileBytes} bytes (was the download or copy interrupted?)`);
    }
    tensors.push({ name: tensor.name, ggmlType: tensor.ggmlType, dimensions: tensor.dimensions.map(Number), fileOffset, byteSize });
  }
  if (tensors.length !== header.tensorCount) throw fail(`the header announces ${header.tensorCount} tensors but describes ${tensors.length}`);

  const arch = info.architectureMetadata as { block_count?: number; context_length?: number };
  const cacheable = tensors.filter(isCachedTensor);
  const facts: ModelFacts = {
    path: filePath,
    fileBytes,
    ggufVersion: header.version,
    architecture: String(info.metadata.general?.architecture ?? 'unknown'),
    name: info.metadata.general?.name ?? null,
    parameterCount: tensors.reduce((sum, tensor) => sum + elementCount(tensor.dimensions), 0),
    fileType: fileTypeName(info.metadata.general?.file_type),
    layers: arch.block_count ?? null,
    contextLength: arch.context_length ?? null,
    tensorCount: tensors.length,
    cacheable: { tensors: cacheable.length, bytes: cacheable.reduce((sum, tensor) => sum + tensor.byteSize, 0) },
    tensors,
  };
  return { facts, info };
}

type Fail = (problem: string, cause?: unknown) => HearthError;

async function fileSize(filePath: string, fail: Fail): Promise<number> {
  try {
    const info = await stat(filePath);
    if (info.isDirectory()) throw fail('is a folder, not a GGUF file');
    if (info.size === 0) throw fail('the file is empty');
    return info.size;
  } catch (error) {
    if (error instanceof HearthError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail('no such file', error);
    if (code === 'EACCES' || code === 'EPERM') throw fail('cannot be read: permission denied', error);
    throw fail(`cannot be read (${(error as Error).message})`, error);
  }
}

async function readHeader(filePath: string, fileBytes: number, fail: Fail): Promise<{ version: number; tensorCount: number }> {
  const bytes = Buffer.alloc(HEADER_BYTES);
  let read: number;
  try {
    const handle = await open(filePath, 'r');
    try {
      ({ bytesRead: read } = await handle.read(bytes, 0, HEADER_BYTES, 0));
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(code === 'EACCES' || code === 'EPERM' ? 'cannot be read: permission denied' : `cannot be read (${(error as Error).message})`, error);
  }
  if (read < 4 || bytes.toString('latin1', 0, 4) !== 'GGUF') throw fail('is not a GGUF file (it does not start with the GGUF magic bytes)');
  if (read < HEADER_BYTES) throw fail(`the file is truncated: ${fileBytes} bytes is shorter than a GGUF header`);
  const version = bytes.readUInt32LE(4);
  if (version !== 2 && version !== 3) throw fail(`uses GGUF version ${version}; llama.cpp reads versions 2 and 3`);
  const tensorCount = bytes.readBigUInt64LE(8);
  const metadataCount = bytes.readBigUInt64LE(16);
  if (tensorCount > BigInt(MAX_TENSORS) || metadataCount > BigInt(MAX_METADATA_ENTRIES)) {
    throw fail(`the header is damaged: it announces ${tensorCount} tensors and ${metadataCount} metadata entries`);
  }
  return { version, tensorCount: Number(tensorCount) };
}
