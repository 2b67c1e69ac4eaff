import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trayIconFiles, trayIconPath } from '../../src-main/app/tray-icons.js';
import { trayStates } from '../../src-main/app/tray-state.js';

// Width, height, bit depth and colour type from a PNG's IHDR chunk.
function pngHeader(file: string): { width: number; height: number; depth: number; colourType: number } {
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 8).toString('hex'), file).toBe('89504e470d0a1a0a');
  expect(bytes.subarray(12, 16).toString('ascii'), file).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), depth: bytes[24] ?? 0, colourType: bytes[25] ?? 0 };
}

describe('tray icons', () => {
  for (const platform of ['linux', 'win32', 'darwin'] as const) {
    it(`has a 16 px and a 32 px RGBA PNG for every state on ${platform}`, () => {
      for (const state of trayStates) {
        const [normal, double] = trayIconFiles(state, platform);
        expect(normal, state).toBe(trayIconPath(state, platform));
        expect(double, state).toMatch(/@2x\.png$/);
        expect(pngHeader(normal ?? '')).toEqual({ width: 16, height: 16, depth: 8, colourType: 6 });
        expect(pngHeader(double ?? '')).toEqual({ width: 32, height: 32, depth: 8, colourType: 6 });
      }
    });
  }

  it('draws each state differently', () => {
    const pictures = trayStates.map((state) => fs.readFileSync(trayIconPath(state, 'linux')).toString('base64'));
    expect(new Set(pictures).size).toBe(trayStates.length);
  });

  it('uses a template image for idle on macOS only, so the menu bar can tint it', () => {
    expect(path.basename(trayIconPath('idle', 'darwin'))).toBe('idleTemplate.png');
    expect(path.basename(trayIconPath('idle', 'linux'))).toBe('idle.png');
    expect(path.basename(trayIconPath('serving', 'darwin'))).toBe('serving.png');
  });

  it('resolves from the root it is given', () => {
    expect(trayIconPath('error', 'win32', '/opt/Hearth')).toBe(path.join('/opt/Hearth', 'resources', 'tray', 'error.png'));
  });
});
