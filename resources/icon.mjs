// Writes the app icon, resources/icon.png: the flame of src-renderer/public/favicon.svg on its dark
// rounded square, at 1024 px (electron-builder makes the .ico and .icns from it). Plain Node, no
// dependencies:
//   node resources/icon.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const SIZE = 1024;
// A little room around the square, so no platform's mask clips its corners.
const MARGIN = 64;
const SUBROWS = 8;

// favicon.svg, in its 32-unit box: the square, the flame and its tongue, painted in that order.
const LAYERS = [
  { rgb: [0x1e, 0x21, 0x28], d: roundedSquare(32, 8) },
  { rgb: [0xf0, 0x8a, 0x4b], d: 'M16 5c1.2 4.2 6.5 7.3 6.5 13a6.5 6.5 0 0 1-13 0c0-3 1.6-5 3.2-6.4.2 2 1.2 3.2 2.3 3.6C14.2 11.6 14.6 8 16 5z' },
  { rgb: [0xff, 0xd2, 0x9a], d: 'M16 17.5c.6 1.8 2.8 2.8 2.8 5a2.8 2.8 0 0 1-5.6 0c0-1.4.9-2.3 1.6-2.9.2.7.6 1.1 1 1.2-.2-1.3 0-2.4.2-3.3z' },
];

// The favicon's <rect rx>, as the path commands drawn below (M, a quarter circle as C, z).
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

// A closed outline as points, from the few path commands these paths use (M, C, c, a half
// circle, z): the parser of resources/tray/make-icons.mjs, with finer steps for the large size.
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
      const base = command === 'c' ? [x, y, x, y, x, y] : [0, 0, 0, 0, 0, 0];
      const [x1, y1, x2, y2, x3, y3] = take(6).map((value, k) => value + base[k]);
      for (let step = 1; step <= 64; step++) {
        const t = step / 64;
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
      for (let k = 1; k <= 128; k++) {
        const angle = start + (Math.PI * k) / 128;
        points.push([cx + r * Math.cos(angle), y + r * Math.sin(angle)]);
      }
      x += dx;
    } else if (command === 'z') break;
    else throw new Error(`path command ${command} is not drawn`);
    if (points.length === 0) points.push([x, y]);
  }
  return points;
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
    const cells = coverage(outline(layer.d));
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

const file = path.join(here, 'icon.png');
fs.writeFileSync(file, png(SIZE, draw()));
console.log(`${path.relative(process.cwd(), file)} (${SIZE}×${SIZE})`);
