import { existsSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Configuration } from 'app-builder-lib';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { FileMatcher } from 'app-builder-lib/out/fileMatcher.js';
import { describe, expect, it } from 'vitest';
import { trayIconFiles } from '../../src-main/app/tray-icons.js';
import { trayStates } from '../../src-main/app/tray-state.js';
import { findBackendModules } from '../../src-main/core/native/backends.js';
import { nodeLlamaCppDir } from '../../src-main/core/native/llama-source.js';
import { stageBundle, stagedBundleDir } from '../../src-main/core/native/stage-bundle.js';
import { locateTools, nodeModulesDir } from '../../src-main/core/native/tools.js';
import { REPO_ROOT } from '../helpers/cli.js';

const { Arch, DebugLogger } = createRequire(import.meta.url)('builder-util') as typeof import('builder-util');

// The configuration exactly as `electron-builder` reads it from electron-builder.yml.
const config: Configuration = await getConfig(REPO_ROOT, null, null);
const PLATFORMS = { linux: 'linux', win: 'win32', mac: 'darwin' } as const;

/** Whether electron-builder's own file filter lets `file` (relative to the repository) through `patterns`. */
function matches(patterns: string[], file: string): boolean {
  const filter = new FileMatcher(REPO_ROOT, '', (pattern) => pattern, patterns).createFilter();
  return filter(path.join(REPO_ROOT, file), { isDirectory: () => false } as Stats);
}

function relative(file: string): string {
  return path.relative(REPO_ROOT, file).split(path.sep).join('/');
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(12, 16).toString('ascii'), file).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function targets(platform: keyof typeof PLATFORMS): string[] {
  const target = config[platform]?.target;
  const list = Array.isArray(target) ? target : [target];
  return list.map((entry) => (typeof entry === 'string' ? entry : (entry?.target ?? '')));
}

describe('electron-builder.yml', () => {
  it('passes electron-builder\'s own schema check', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('names the app and makes AppImage and deb, NSIS and dmg installers', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { productName: string; scripts: Record<string, string> };
    expect(config.appId).toBe('org.hearth.app');
    expect(config.productName).toBe(pkg.productName);
    expect(targets('linux')).toEqual(['AppImage', 'deb']);
    expect(targets('win')).toEqual(['nsis']);
    expect(targets('mac')).toEqual(['dmg']);
    expect(config.linux?.maintainer, 'a .deb must name its maintainer').toBeTruthy();
    // `npm run package` stages the tools before electron-builder packs them.
    expect(pkg.scripts.package).toMatch(/npm run build && npm run stage:native && electron-builder$/);
  });

  it('gives every platform an app icon big enough for .icns and .ico', () => {
    expect(existsSync(path.join(REPO_ROOT, config.directories?.buildResources ?? 'missing'))).toBe(true);
    for (const platform of Object.keys(PLATFORMS) as (keyof typeof PLATFORMS)[]) {
      const icon = config[platform]?.icon;
      expect(icon, platform).toBeTruthy();
      const { width, height } = pngSize(path.join(REPO_ROOT, icon!));
      expect(width, platform).toBeGreaterThanOrEqual(512);
      expect(height, platform).toBe(width);
    }
  });

  it('packs the app\'s code, patches and the tray icon of every state', () => {
    const files = (config.files as { filter: string[] }[]).flatMap((set) => set.filter);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string; bin: Record<string, string> };
    expect(matches(files, pkg.main), pkg.main).toBe(true);
    expect(matches(files, 'package.json')).toBe(true);
    for (const bin of Object.values(pkg.bin)) expect(matches(files, bin), bin).toBe(true);
    for (const patch of readdirPatches()) expect(matches(files, patch), patch).toBe(true);
    for (const platform of Object.values(PLATFORMS)) {
      for (const state of trayStates) {
        for (const file of trayIconFiles(state, platform, REPO_ROOT)) {
          expect(existsSync(file), file).toBe(true);
          expect(matches(files, relative(file)), relative(file)).toBe(true);
        }
      }
    }
    expect(matches(files, 'dist/main/app/main.js.map')).toBe(false);
  });

  it('unpacks node-llama-cpp\'s native parts from the asar', () => {
    const unpack = [config.asarUnpack ?? []].flat();
    const modules = findBackendModules(nodeModulesDir(), () => false);
    expect(modules.length).toBeGreaterThan(0);
    for (const module of modules) expect(matches(unpack, relative(module.sourcePath)), module.sourcePath).toBe(true);
    expect(matches(unpack, relative(path.join(nodeLlamaCppDir(), 'package.json')))).toBe(true);
    expect(matches(unpack, 'dist/main/app/main.js')).toBe(false);
  });

  it('packs each platform\'s staged tools, and only those, as resources/llama.cpp', () => {
    expect(config.extraResources ?? null).toBeNull();
    for (const [key, platform] of Object.entries(PLATFORMS) as [keyof typeof PLATFORMS, NodeJS.Platform][]) {
      const sets = [config[key]?.extraResources].flat() as { from: string; to: string }[];
      expect(sets, key).toHaveLength(1);
      for (const arch of [Arch.x64, Arch.arm64]) {
        // electron-builder puts the Arch's name for ${arch}: "x64", "arm64", as Node's process.arch says.
        expect(sets[0]!.from.replace('${arch}', Arch[arch])).toBe(relative(stagedBundleDir(REPO_ROOT, platform, Arch[arch])));
      }
      expect(sets[0]!.to).toBe('llama.cpp');
    }
  });

  it('refuses to pack an installer whose tools are not staged', async () => {
    expect(typeof config.beforePack).toBe('string');
    const hook = path.resolve(REPO_ROOT, config.beforePack as string);
    const { default: beforePack } = (await import(pathToFileURL(hook).href)) as { default: (context: object) => void };
    const projectDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-package-'));
    try {
      const context = { electronPlatformName: process.platform, arch: Arch[process.arch as keyof typeof Arch], packager: { projectDir } };
      expect(() => beforePack(context)).toThrow(`No llama.cpp tools are staged for ${process.platform}-${process.arch}`);
      await stageBundle({ buildDir: (await locateTools()).dir, nodeModulesDir: nodeModulesDir(), outDir: stagedBundleDir(projectDir) });
      expect(() => beforePack(context)).not.toThrow();
      expect(() => beforePack({ ...context, electronPlatformName: 'plan9' })).toThrow(/No llama\.cpp tools are staged for plan9-/);
    } finally {
      await rm(projectDir, { recursive: true, force: true });
    }
  });
});

function readdirPatches(): string[] {
  return readdirSync(path.join(REPO_ROOT, 'patches', 'llama.cpp')).filter((name) => name.endsWith('.patch')).map((name) => `patches/llama.cpp/${name}`);
}
