import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { isHearthError } from '../../../src-main/core/base/errors.js';
import { HearthCore } from '../../../src-main/core/host/hearth-core.js';
import { hearthPaths } from '../../../src-main/core/base/paths.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { freePort, isPortFree } from '../../../src-main/core/net/free-port.js';
import { startRpcServer } from '../../../src-main/core/worker/rpc-server.js';
import { scratchDir } from '../../helpers/models.js';
import { RpcWireClient } from '../../helpers/rpc-wire-client.js';

describe('startRpcServer', () => {
  it('starts ggml-rpc-server on loopback and reports its devices and protocol', async () => {
    const tools = await ensureTools();
    const port = await freePort();
    const server = await startRpcServer({ tools, host: '127.0.0.1', port, cacheRoot: scratchDir() });
    try {
      expect(server.endpoint).toBe(`127.0.0.1:${port}`);
      expect(server.rpcProtocol).toBe(tools.rpcProtocol);
      expect(server.devices).toEqual([expect.objectContaining({ name: 'CPU', totalBytes: expect.any(Number) })]);
      expect(server.devices[0]!.totalBytes).toBeGreaterThan(0);
      expect(await isPortFree('127.0.0.1', port)).toBe(false);
    } finally {
      await server.stop();
    }
    expect(await server.exited).toMatchObject({ signal: 'SIGTERM' });
    expect(await isPortFree('127.0.0.1', port)).toBe(true);
  });

  it('outlives a client that vanishes while it writes an answer (it died of SIGPIPE before patch 0009)', async () => {
    const tools = await ensureTools();
    const port = await freePort();
    const server = await startRpcServer({ tools, host: '127.0.0.1', port, cacheRoot: scratchDir() });
    try {
      const { client } = await RpcWireClient.connect(`127.0.0.1:${port}`);
      // An answer far larger than the socket buffers: the server is still writing it when the client goes.
      const bytes = 64 * 2 ** 20;
      const { buffer } = await client.allocBuffer(bytes);
      client.requestTensor({ id: 1n, buffer, data: await client.bufferBase(buffer), bytes }, 0n, bytes);
      await client.replyStarted();
      await client.vanish();
      // One client at a time: this one is served only once the server is done with the one that vanished.
      const next = await RpcWireClient.connect(`127.0.0.1:${port}`);
      expect(next.version).toBe(tools.rpcProtocol);
      next.client.close();
      expect(await Promise.race([server.exited, Promise.resolve('running')])).toBe('running');
    } finally {
      await server.stop();
    }
  });

  it('refuses a port another program holds, instead of mistaking it for the worker', async () => {
    const tools = await ensureTools();
    const squatter = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      const error = await startRpcServer({ tools, host: '127.0.0.1', port, cacheRoot: scratchDir() }).then(() => undefined, (caught: unknown) => caught);
      expect(isHearthError(error) && error.code).toBe('port-in-use');
      expect((error as Error).message).toContain(String(port));
    } finally {
      squatter.close();
    }
  });
});

describe('HearthCore', () => {
  it('serves this machine\'s devices through its worker and stops cleanly', async () => {
    const core = await HearthCore.start({ workerPort: 0, controlPort: 0, linkPort: 0, discovery: false, tensorCacheDir: scratchDir(), paths: { cacheDir: hearthPaths().cacheDir, dataDir: scratchDir('hearth-data-') } });
    const seen: string[] = [];
    core.on('status', (status) => seen.push(status.worker.state));
    let endpoint: string | undefined;
    try {
      const worker = await core.whenWorkerReady();
      expect(worker.state).toBe('serving');
      expect(worker.devices.map((device) => device.name)).toContain('CPU');
      const status = await core.requests.getStatus();
      expect(status.rpcProtocol).toMatch(/^\d+\.\d+\.\d+$/);
      expect(status.worker.endpoint).toBe(worker.endpoint);
      endpoint = worker.endpoint!;
    } finally {
      await core.stop();
    }
    expect(seen.at(-1)).toBe('stopped');
    expect(core.status.worker.endpoint).toBeNull();
    const [host, port] = (endpoint ?? '').split(':');
    expect(host).toBe('127.0.0.1');
    expect(await isPortFree(host!, Number(port))).toBe(true);
  });
});
