// Writes the tray icons: a flame in each state's colour at 16 and 32 px (`@2x`), and a black
// template flame that macOS tints for the menu bar. Plain Node, no dependencies:
//   node resources/tray/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLAME, TONGUE, outline } from '../flame.mjs';
import { png } from '../png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// Keep in step with TrayState in src-main/app/tray-state.ts.
const colours = {
  idle: [138, 143, 152],
  serving: [46, 160, 67],
  warming: [240, 160, 32],
  error: [229, 72, 77],
};
const SIZES = [
  { size: 16, suffix: '' },
  { size: 32, suffix: '@2x' },
];
const SUBSAMPLES = 4;

// The flame (resources/flame.mjs) spans y 5..24.5 and x 9.5..22.5 there: scaled to fill the icon's height, centred.
const BOX = { top: 5, bottom: 24.5, centreX: 16, margin: 0.5 };

// Even-odd point in polygon.
function inside(px, py, polygon) {
  let hit = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

// Steps along the curves: enough for 32 px.
const STEPS = { curveSteps: 16, arcSteps: 32 };
const flame = outline(FLAME, STEPS);
const tongue = outline(TONGUE, STEPS);

// Coverage (0..1) of the flame's body and of its inner tongue over one pixel.
function coverage(px, py, size) {
  const scale = (BOX.bottom - BOX.top) / (size - 2 * BOX.margin);
  let body = 0;
  let inner = 0;
  for (let sy = 0; sy < SUBSAMPLES; sy++) {
    for (let sx = 0; sx < SUBSAMPLES; sx++) {
      const x = BOX.centreX + (px + (sx + 0.5) / SUBSAMPLES - size / 2) * scale;
      const y = BOX.top + (py + (sy + 0.5) / SUBSAMPLES - BOX.margin) * scale;
      if (inside(x, y, tongue)) inner++;
      else if (inside(x, y, flame)) body++;
    }
  }
  const n = SUBSAMPLES * SUBSAMPLES;
  return { body: body / n, tongue: inner / n };
}

// RGBA pixels: the flame in `rgb` with a lighter tongue, or for a template a black flame with the tongue cut out.
function draw(size, rgb) {
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const { body, tongue } = coverage(x, y, size);
      const at = (y * size + x) * 4;
      if (rgb === null) {
        pixels[at + 3] = Math.round(body * 255);
        continue;
      }
      const alpha = body + tongue;
      if (alpha === 0) continue;
      const light = tongue / alpha;
      for (let c = 0; c < 3; c++) pixels[at + c] = Math.round(rgb[c] + (255 - rgb[c]) * 0.6 * light);
      pixels[at + 3] = Math.round(alpha * 255);
    }
  }
  return pixels;
}

const images = [...Object.entries(colours), ['idleTemplate', null]];
for (const [name, rgb] of images) {
  for (const { size, suffix } of SIZES) {
    const file = path.join(here, `${name}${suffix}.png`);
    fs.writeFileSync(file, png(size, draw(size, rgb)));
    console.log(`${path.relative(process.cwd(), file)} (${size}×${size})`);
  }
}
