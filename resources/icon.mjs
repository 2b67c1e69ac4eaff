// Writes the app icon, resources/icon.png: the flame of src-renderer/public/favicon.svg on its dark
// rounded square, at 1024 px (electron-builder makes the .ico and .icns from it). Plain Node, no
// dependencies:
//   node resources/icon.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLAME, TONGUE, outline } from './flame.mjs';
import { png } from './png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SIZE = 1024;
// A little room around the square, so no platform's mask clips its corners.
const MARGIN = 64;
const SUBROWS = 8;
// Finer steps along the curves than the tray icons', for the large size.
const STEPS = { curveSteps: 64, arcSteps: 128 };

// favicon.svg, in its 32-unit box: the square, the flame and its tongue, painted in that order.
const LAYERS = [
  { rgb: [0x1e, 0x21, 0x28], d: roundedSquare(32, 8) },
  { rgb: [0xf0, 0x8a, 0x4b], d: FLAME },
  { rgb: [0xff, 0xd2, 0x9a], d: TONGUE },
];

// The favicon's <rect rx>, as the path commands outline() draws (M, a quarter circle as C, z).
function roundedSquare(size, r) {
  const k = r * 0.5523; // control-point distance of a cubic quarter circle
  const far = size - r;
  return [
    `M${r} 0`,
    `C${far} 0 ${far} 0 ${far} 0`,
    `C${far + k} 0 ${size} ${r - k} ${size} ${r}`,
    `C${size} ${far} ${size} ${far} ${size} ${far}`,
    `C${size} ${far + k} ${far + k} ${size} ${far} ${size}`,
    `C${r} ${size} ${r} ${size} ${r} ${size}`,
    `C${r - k} ${size} 0 ${far + k} 0 ${far}`,
    `C0 ${r} 0 ${r} 0 ${r}`,
    `C0 ${r - k} ${r - k} 0 ${r} 0z`,
  ].join('');
}

// Coverage (0..1) of a polygon over each pixel: even-odd spans on SUBROWS lines per pixel row,
// each span adding its exact horizontal overlap with the pixels it crosses.
function coverage(polygon) {
  const scale = (SIZE - 2 * MARGIN) / 32;
  const cells = new Float32Array(SIZE * SIZE);
  for (let py = 0; py < SIZE; py++) {
    for (let s = 0; s < SUBROWS; s++) {
      const y = (py + (s + 0.5) / SUBROWS - MARGIN) / scale;
      const crossings = [];
      for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
        const [xi, yi] = polygon[i];
        const [xj, yj] = polygon[j];
        if (yi > y !== yj > y) crossings.push(MARGIN + (xi + ((y - yi) * (xj - xi)) / (yj - yi)) * scale);
      }
      crossings.sort((a, b) => a - b);
      for (let k = 0; k + 1 < crossings.length; k += 2) addSpan(cells, py, crossings[k], crossings[k + 1]);
    }
  }
  for (let i = 0; i < cells.length; i++) cells[i] /= SUBROWS;
  return cells;
}

function addSpan(cells, py, from, to) {
  for (let px = Math.max(0, Math.floor(from)); px < Math.min(SIZE, Math.ceil(to)); px++) {
    cells[py * SIZE + px] += Math.min(to, px + 1) - Math.max(from, px);
  }
}

// RGBA pixels: each layer painted over the ones before it ("over", straight alpha).
function draw() {
  const rgb = new Float32Array(SIZE * SIZE * 3);
  const alpha = new Float32Array(SIZE * SIZE);
  for (const layer of LAYERS) {
    const cells = coverage(outline(layer.d, STEPS));
    for (let i = 0; i < cells.length; i++) {
      const a = Math.min(1, cells[i]);
      if (a === 0) continue;
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = layer.rgb[c] * a + rgb[i * 3 + c] * (1 - a);
      alpha[i] = a + alpha[i] * (1 - a);
    }
  }
  const pixels = Buffer.alloc(SIZE * SIZE * 4);
  for (let i = 0; i < alpha.length; i++) {
    // rgb holds premultiplied colour: undo it for PNG's straight alpha.
    for (let c = 0; c < 3; c++) pixels[i * 4 + c] = alpha[i] > 0 ? Math.round(rgb[i * 3 + c] / alpha[i]) : 0;
    pixels[i * 4 + 3] = Math.round(alpha[i] * 255);
  }
  return pixels;
}

const file = path.join(here, 'icon.png');
fs.writeFileSync(file, png(SIZE, draw()));
console.log(`${path.relative(process.cwd(), file)} (${SIZE}×${SIZE})`);
