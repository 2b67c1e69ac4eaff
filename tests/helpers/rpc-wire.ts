// Just enough of llama.cpp's RPC protocol to act as a client a test controls: say hello, hold the
// connection, ask for a large answer and vanish while the server writes it. Wire format from
// ggml/src/ggml-rpc/ggml-rpc.cpp: request `| cmd (1 byte) | size (u64) | data |`, answer
// `| size (u64) | data |`, little-endian, structures packed.
import net from 'node:net';

const CMD = { ALLOC_BUFFER: 0, BUFFER_GET_BASE: 3, GET_TENSOR: 8, HELLO: 14 } as const;
const HELLO_CAPS_BYTES = 24;
/** sizeof(rpc_tensor): id, type, buffer, ne[4], nb[4], op, op_params[16], flags, src[10], view_src, view_offs, data, name[64], use_count. */
const RPC_TENSOR_BYTES = 296;
const GGML_TYPE_F32 = 0;

/** A connected RPC client reading answers in order. */
export class RpcWire {
  readonly socket: net.Socket;
  #buffered = Buffer.alloc(0);
  #waiting: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      this.#waiting?.();
    });
    socket.on('close', () => this.#waiting?.());
    socket.on('error', () => undefined);
  }

  /** Connect and say hello; resolves with the server's protocol version ("6.0.0"). */
  static async connect(host: string, port: number): Promise<{ wire: RpcWire; version: string }> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const wire = new RpcWire(socket);
    const answer = await wire.call(CMD.HELLO, Buffer.alloc(HELLO_CAPS_BYTES));
    return { wire, version: `${answer[0]}.${answer[1]}.${answer[2]}` };
  }

  /** Send one command and read its answer. */
  async call(cmd: number, payload: Buffer): Promise<Buffer> {
    this.send(cmd, payload);
    const size = Number((await this.#take(8)).readBigUInt64LE(0));
    return this.#take(size);
  }

  /** Send one command without reading anything. */
  send(cmd: number, payload: Buffer): void {
    const header = Buffer.alloc(9);
    header.writeUInt8(cmd, 0);
    header.writeBigUInt64LE(BigInt(payload.length), 1);
    this.socket.write(Buffer.concat([header, payload]));
  }

  /** Allocate a buffer of `bytes` on device 0: its remote handle and base address. */
  async allocate(bytes: number): Promise<{ remote: bigint; base: bigint }> {
    const request = Buffer.alloc(12);
    request.writeUInt32LE(0, 0);
    request.writeBigUInt64LE(BigInt(bytes), 4);
    const remote = (await this.call(CMD.ALLOC_BUFFER, request)).readBigUInt64LE(0);
    const baseRequest = Buffer.alloc(8);
    baseRequest.writeBigUInt64LE(remote, 0);
    const base = (await this.call(CMD.BUFFER_GET_BASE, baseRequest)).readBigUInt64LE(0);
    return { remote, base };
  }

  /** Ask for the whole of an F32 buffer of `bytes` as one tensor, without reading the answer. */
  requestBuffer(buffer: { remote: bigint; base: bigint }, bytes: number): void {
    const tensor = Buffer.alloc(RPC_TENSOR_BYTES);
    tensor.writeBigUInt64LE(1n, 0); // id
    tensor.writeUInt32LE(GGML_TYPE_F32, 8);
    tensor.writeBigUInt64LE(buffer.remote, 12);
    const ne = [bytes / 4, 1, 1, 1];
    const nb = [4, bytes, bytes, bytes];
    ne.forEach((value, i) => tensor.writeUInt32LE(value, 20 + 4 * i));
    nb.forEach((value, i) => tensor.writeUInt32LE(value, 36 + 4 * i));
    // op, op_params, flags, src, view_src, view_offs stay zero; data is the buffer's base.
    tensor.writeBigUInt64LE(buffer.base, 20 + 16 + 16 + 4 + 64 + 4 + 80 + 8 + 8);
    const request = Buffer.alloc(RPC_TENSOR_BYTES + 16);
    tensor.copy(request, 0);
    request.writeBigUInt64LE(0n, RPC_TENSOR_BYTES); // offset
    request.writeBigUInt64LE(BigInt(bytes), RPC_TENSOR_BYTES + 8);
    this.send(CMD.GET_TENSOR, request);
  }

  /** Resolves once at least one byte of an answer not yet read has arrived. */
  async answerStarted(): Promise<void> {
    while (this.#buffered.length === 0) await this.#wait();
  }

  /**
   * Vanish the way a dying coordinator's link does: FIN first (the server's side goes to
   * CLOSE_WAIT), then RST. A server blocked writing to it then gets EPIPE.
   */
  async vanish(): Promise<void> {
    this.socket.pause();
    await new Promise<void>((resolve) => this.socket.end(resolve));
    this.socket.resetAndDestroy();
  }

  #take(size: number): Promise<Buffer> {
    return (async () => {
      while (this.#buffered.length < size) {
        if (this.socket.destroyed || this.socket.readableEnded) throw new Error(`the RPC server closed the connection (${this.#buffered.length} of ${size} answer bytes came)`);
        await this.#wait();
      }
      const out = this.#buffered.subarray(0, size);
      this.#buffered = this.#buffered.subarray(size);
      return out;
    })();
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => (this.#waiting = () => {
      this.#waiting = null;
      resolve();
    }));
  }
}
