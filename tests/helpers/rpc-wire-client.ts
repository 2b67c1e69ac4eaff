// A small client of ggml-rpc-server's own wire protocol, for tests that must send what llama.cpp's
// client never would (an offset near 2^64, a part of a tensor after a hash request), or vanish
// as a dying client does. The protocol
// is in ggml/src/ggml-rpc/ggml-rpc.cpp: a request is one command byte (`enum rpc_cmd`), its input's
// size as a u64 and the input; a reply is its size as a u64 and the reply. Every struct is packed
// (`#pragma pack(push, 1)`) and little-endian. Only the commands these tests need are here.
import net from 'node:net';

// `enum rpc_cmd`, in its order.
const CMD = { ALLOC_BUFFER: 0, BUFFER_GET_BASE: 3, SET_TENSOR: 6, SET_TENSOR_HASH: 7, GET_TENSOR: 8, HELLO: 14 } as const;
/** `RPC_CONN_CAPS_SIZE` (transport.h): the transport capabilities in HELLO, all zero for plain TCP. */
const CONN_CAPS_BYTES = 24;
/** `sizeof(rpc_tensor)`: id, type, buffer, ne[4], nb[4], op, op_params[16], flags, src[10], view_src, view_offs, data, name[64], use_count. */
export const RPC_TENSOR_BYTES = 296;
const GGML_TYPE_F32 = 0;

/** A 1-D F32 tensor of `bytes` bytes at `data` in buffer `buffer` (both the server's pointers). */
export interface WireTensor {
  id: bigint;
  buffer: bigint;
  data: bigint;
  bytes: number;
}

/** `struct rpc_tensor` for a 1-D F32 tensor: the fields a set or get reads, the rest zero. */
export function encodeTensor(tensor: WireTensor): Buffer {
  const out = Buffer.alloc(RPC_TENSOR_BYTES);
  out.writeBigUInt64LE(tensor.id, 0);
  out.writeUInt32LE(GGML_TYPE_F32, 8);
  out.writeBigUInt64LE(tensor.buffer, 12);
  const elements = tensor.bytes / 4;
  [elements, 1, 1, 1].forEach((n, i) => out.writeUInt32LE(n, 20 + 4 * i)); // ne
  [4, tensor.bytes, tensor.bytes, tensor.bytes].forEach((n, i) => out.writeUInt32LE(n, 36 + 4 * i)); // nb
  out.writeBigUInt64LE(tensor.data, 220);
  out.write(`t${tensor.id}`, 228, 'latin1');
  return out;
}

/** One connection to a `ggml-rpc-server`, past its HELLO. */
export class RpcWireClient {
  readonly #socket: net.Socket;
  #received = Buffer.alloc(0);
  #wanted: { bytes: number; resolve(bytes: Buffer): void; reject(error: Error): void } | null = null;
  #closed: Error | null = null;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#deliver();
    });
    socket.on('close', () => this.#fail(new Error('the server closed the connection')));
    socket.on('error', (error) => this.#fail(error));
  }

  /** Connect to `host:port` and say HELLO; resolves with the server's protocol version. */
  static async connect(endpoint: string): Promise<{ client: RpcWireClient; version: string }> {
    const at = endpoint.lastIndexOf(':');
    const socket = net.connect(Number(endpoint.slice(at + 1)), endpoint.slice(0, at));
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RpcWireClient(socket);
    const reply = await client.#call(CMD.HELLO, Buffer.alloc(CONN_CAPS_BYTES));
    return { client, version: `${reply[0]}.${reply[1]}.${reply[2]}` };
  }

  /** ALLOC_BUFFER on device 0: the buffer's server pointer and its size. */
  async allocBuffer(bytes: number): Promise<{ buffer: bigint; size: bigint }> {
    const input = Buffer.alloc(12);
    input.writeUInt32LE(0, 0);
    input.writeBigUInt64LE(BigInt(bytes), 4);
    const reply = await this.#call(CMD.ALLOC_BUFFER, input);
    return { buffer: reply.readBigUInt64LE(0), size: reply.readBigUInt64LE(8) };
  }

  /** BUFFER_GET_BASE: where the buffer's memory starts (tensors' `data` point into it). */
  async bufferBase(buffer: bigint): Promise<bigint> {
    const input = Buffer.alloc(8);
    input.writeBigUInt64LE(buffer, 0);
    return (await this.#call(CMD.BUFFER_GET_BASE, input)).readBigUInt64LE(0);
  }

  /** SET_TENSOR: `| rpc_tensor | offset (u64) | data |`, no reply (a refusal closes the connection). */
  setTensor(tensor: WireTensor, offset: bigint, data: Uint8Array): void {
    const head = Buffer.alloc(RPC_TENSOR_BYTES + 8);
    encodeTensor(tensor).copy(head, 0);
    head.writeBigUInt64LE(offset, RPC_TENSOR_BYTES);
    this.#send(CMD.SET_TENSOR, Buffer.concat([head, data]));
  }

  /** SET_TENSOR_HASH: `| rpc_tensor | offset | hash |`; true when the server set the tensor from its cache. */
  async setTensorHash(tensor: WireTensor, offset: bigint, hash: bigint): Promise<boolean> {
    const input = Buffer.alloc(RPC_TENSOR_BYTES + 16);
    encodeTensor(tensor).copy(input, 0);
    input.writeBigUInt64LE(offset, RPC_TENSOR_BYTES);
    input.writeBigUInt64LE(hash, RPC_TENSOR_BYTES + 8);
    return (await this.#call(CMD.SET_TENSOR_HASH, input))[0] === 1;
  }

  /** GET_TENSOR: `size` bytes of the tensor from `offset`. */
  async getTensor(tensor: WireTensor, offset: bigint, size: number): Promise<Buffer> {
    const input = Buffer.alloc(RPC_TENSOR_BYTES + 16);
    encodeTensor(tensor).copy(input, 0);
    input.writeBigUInt64LE(offset, RPC_TENSOR_BYTES);
    input.writeBigUInt64LE(BigInt(size), RPC_TENSOR_BYTES + 8);
    return this.#call(CMD.GET_TENSOR, input);
  }

  /** GET_TENSOR sent without reading the reply: the server is left writing it. */
  requestTensor(tensor: WireTensor, offset: bigint, size: number): void {
    const input = Buffer.alloc(RPC_TENSOR_BYTES + 16);
    encodeTensor(tensor).copy(input, 0);
    input.writeBigUInt64LE(offset, RPC_TENSOR_BYTES);
    input.writeBigUInt64LE(BigInt(size), RPC_TENSOR_BYTES + 8);
    this.#send(CMD.GET_TENSOR, input);
  }

  /** Resolves once a reply not yet read has begun to arrive. */
  async replyStarted(): Promise<void> {
    while (this.#received.length === 0 && !this.#closed) await new Promise((resolve) => this.#socket.once('data', resolve));
  }

  /**
   * Vanish the way a dying coordinator's link does: FIN first (the server's side goes to
   * CLOSE_WAIT), then RST. A server still writing to it then gets EPIPE.
   */
  async vanish(): Promise<void> {
    this.#socket.pause();
    await new Promise<void>((resolve) => this.#socket.end(resolve));
    this.#socket.resetAndDestroy();
  }

  close(): void {
    this.#socket.destroy();
  }

  #send(command: number, input: Buffer): void {
    const head = Buffer.alloc(9);
    head.writeUInt8(command, 0);
    head.writeBigUInt64LE(BigInt(input.length), 1);
    this.#socket.write(Buffer.concat([head, input]));
  }

  async #call(command: number, input: Buffer): Promise<Buffer> {
    this.#send(command, input);
    const size = (await this.#read(8)).readBigUInt64LE(0);
    return this.#read(Number(size));
  }

  #read(bytes: number): Promise<Buffer> {
    if (this.#wanted) throw new Error('one reply at a time');
    return new Promise((resolve, reject) => {
      this.#wanted = { bytes, resolve, reject };
      this.#deliver();
    });
  }

  #deliver(): void {
    const wanted = this.#wanted;
    if (!wanted) return;
    if (this.#received.length >= wanted.bytes) {
      this.#wanted = null;
      const reply = this.#received.subarray(0, wanted.bytes);
      this.#received = this.#received.subarray(wanted.bytes);
      wanted.resolve(Buffer.from(reply));
    } else if (this.#closed) {
      this.#wanted = null;
      wanted.reject(this.#closed);
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    this.#deliver();
  }
}
