// Writes the tray icons: a flame in each state's colour at 16 and 32 px (`@2x`), and a black
// template flame that macOS tints for the menu bar. Plain Node, no dependencies:
//   node resources/tray/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

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

// The flame of the app icon (src-renderer/public/favicon.svg), in its 32-unit box.
const FLAME = 'M16 5c1.2 4.2 6.5 7.3 6.5 13a6.5 6.5 0 0 1-13 0c0-3 1.6-5 3.2-6.4.2 2 1.2 3.2 2.3 3.6C14.2 11.6 14.6 8 16 5z';
const TONGUE = 'M16 17.5c.6 1.8 2.8 2.8 2.8 5a2.8 2.8 0 0 1-5.6 0c0-1.4.9-2.3 1.6-2.9.2.7.6 1.1 1 1.2-.2-1.3 0-2.4.2-3.3z';
// The flame spans y 5..24.5 and x 9.5..22.5 there: scaled to fill the icon's height, centred.
const BOX = { top: 5, bottom: 24.5, centreX: 16, margin: 0.5 };

// A closed outline as points, from the few path commands those two paths use (M, C, c, a half circle, z).
function outline(d) {
  const tokens = d.match(/[a-zA-Z]|-?(?:\d+\.?\d*|\.\d+)/g);
  const points = [];
  let x = 0;
  let y = 0;
  let command = '';
  for (let i = 0; i < tokens.length; ) {
    if (/[a-zA-Z]/.test(tokens[i])) command = tokens[i++];
    const take = (n) => tokens.slice(i, (i += n)).map(Number);
    if (command === 'M') [x, y] = take(2);
    else if (command === 'C' || command === 'c') {
      const v = take(6);
      const base = command === 'c' ? [x, y, x, y, x, y] : [0, 0, 0, 0, 0, 0];
      const [x1, y1, x2, y2, x3, y3] = v.map((value, k) => value + base[k]);
      for (let t = 1 / 16; t <= 1.0001; t += 1 / 16) {
        const u = 1 - t;
        points.push([
          u * u * u * x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3,
          u * u * u * y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3,
        ]);
      }
      [x, y] = [x3, y3];
    } else if (command === 'a') {
      const [r, , , , sweep, dx, dy] = take(7);
      if (dy !== 0 || Math.abs(Math.abs(dx) - 2 * r) > 1e-9 || sweep !== 1) throw new Error('only a clockwise half circle is drawn');
      const cx = x + dx / 2;
      const start = dx < 0 ? 0 : Math.PI;
      for (let k = 1; k <= 32; k++) {
        const angle = start + (Math.PI * k) / 32;
        points.push([cx + r * Math.cos(angle), y + r * Math.sin(angle)]);
      }
      x += dx;
    } else if (command === 'z') break;
    else throw new Error(`path command ${command} is not drawn`);
    if (points.length === 0) points.push([x, y]);
  }
  return points;
}

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

const flame = outline(FLAME);
const tongue = outline(TONGUE);

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

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

// PNG: 8-bit RGBA, each row with filter 0 (https://www.w3.org/TR/png/#5Chunk-layout).
function png(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const images = [...Object.entries(colours), ['idleTemplate', null]];
for (const [name, rgb] of images) {
  for (const { size, suffix } of SIZES) {
    const file = path.join(here, `${name}${suffix}.png`);
    fs.writeFileSync(file, png(size, draw(size, rgb)));
    console.log(`${path.relative(process.cwd(), file)} (${size}×${size})`);
  }
}
