import { stat } from 'node:fs/promises';
import { HearthError } from '../base/errors.js';
import { GgufHeaderError, metadataNumber, metadataString, readGgufHeader, type GgufHeader } from './gguf-header.js';
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

/** Check a model file and read its facts; any problem becomes a HearthError naming the file. */
export async function inspectModel(filePath: string): Promise<ModelFacts> {
  return (await inspectGguf(filePath)).facts;
}

/** `inspectModel`'s facts with the whole header, from one read of it. */
export async function inspectGguf(filePath: string): Promise<{ facts: ModelFacts; info: GgufHeader }> {
  const fail = (problem: string, cause?: unknown) => new HearthError('bad-model', `${filePath}: ${problem}`, { cause });

  const fileBytes = await fileSize(filePath, fail);
  let info: GgufHeader;
  try {
    info = await readGgufHeader(filePath, fileBytes);
  } catch (error) {
    if (error instanceof GgufHeaderError) throw fail(error.message, error);
    throw unreadable(error, fail);
  }
  const tensors: TensorFacts[] = [];
  for (const tensor of info.tensors) {
    const byteSize = tensorByteSize(tensor.ggmlType, tensor.dimensions);
    if (byteSize === undefined) throw fail(`tensor ${tensor.name} has type ${tensor.ggmlType}, which this llama.cpp release cannot load`);
    const { fileOffset } = tensor;
    if (fileOffset + byteSize > fileBytes) {
      throw fail(`the file is truncated: tensor ${tensor.name} ends at byte ${fileOffset + byteSize} but the file has ${fileBytes} bytes (was the download or copy interrupted?)`);
    }
    tensors.push({ name: tensor.name, ggmlType: tensor.ggmlType, dimensions: tensor.dimensions, fileOffset, byteSize });
  }

  const architecture = metadataString(info, 'general.architecture') ?? 'unknown';
  const cacheable = tensors.filter(isCachedTensor);
  const facts: ModelFacts = {
    path: filePath,
    fileBytes,
    ggufVersion: info.version,
    architecture,
    name: metadataString(info, 'general.name') ?? null,
    parameterCount: tensors.reduce((sum, tensor) => sum + elementCount(tensor.dimensions), 0),
    fileType: fileTypeName(metadataNumber(info, 'general.file_type')),
    layers: metadataNumber(info, `${architecture}.block_count`) ?? null,
    contextLength: metadataNumber(info, `${architecture}.context_length`) ?? null,
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
    throw unreadable(error, fail);
  }
}

function unreadable(error: unknown, fail: Fail): HearthError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return fail('no such file', error);
  if (code === 'EACCES' || code === 'EPERM') return fail('cannot be read: permission denied', error);
  return fail(`cannot be read (${(error as Error).message})`, error);
}
