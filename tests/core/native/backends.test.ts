import { describe, expect, it } from 'vitest';
import { chooseCudaModule, cudaRuntime, findBackendModules } from '../../../src-main/core/native/backends.js';
import { nodeModulesDir } from '../../../src-main/core/native/tools.js';

describe('chooseCudaModule', () => {
  const cuda13 = { sourcePath: '/m/cuda/libggml-cuda.so', runtimeMajor: 13 };
  const cuda12 = { sourcePath: '/m/cuda-ext/fallback/libggml-cuda.so', runtimeMajor: 12 };
  const system = (...majors: number[]) => (soname: string) => majors.some((major) => cudaRuntime(major).includes(soname));

  it('prefers the CUDA 13 build when its runtime is installed', () => {
    expect(chooseCudaModule([cuda13, cuda12], system(13, 12))).toBe(cuda13);
  });

  it('falls back to the CUDA 12 build on a CUDA 12 system', () => {
    expect(chooseCudaModule([cuda13, cuda12], system(12))).toBe(cuda12);
  });

  it('offers none without a CUDA runtime, or without the driver library', () => {
    expect(chooseCudaModule([cuda13, cuda12], () => false)).toBeUndefined();
    expect(chooseCudaModule([cuda13], (soname) => soname !== 'libcuda.so.1' && system(13)(soname))).toBeUndefined();
  });
});

describe('findBackendModules', () => {
  it('offers every CPU variant of node-llama-cpp\'s platform package, and no CUDA module without a runtime', () => {
    const modules = findBackendModules(nodeModulesDir(), () => false);
    const cpu = modules.filter((module) => module.backend === 'CPU');
    expect(cpu.length).toBeGreaterThan(1);
    for (const module of cpu) expect(module.sourcePath).toContain(`@node-llama-cpp/${process.platform}-${process.arch}/`);
    expect(modules.some((module) => module.backend === 'CUDA')).toBe(false);
  });

  it('offers the CUDA module when the system has its runtime', () => {
    const modules = findBackendModules(nodeModulesDir(), () => true);
    const cuda = modules.find((module) => module.backend === 'CUDA');
    expect(cuda?.fileName).toBe('libggml-cuda.so');
    expect(cuda?.needs).toEqual(cudaRuntime(13));
  });
});
