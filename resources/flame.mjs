// The flame of src-renderer/public/favicon.svg, for resources/icon.mjs and resources/tray/make-icons.mjs:
// its paths in the favicon's 32-unit box, and those paths as polygons.

/** The flame's body. */
export const FLAME = 'M16 5c1.2 4.2 6.5 7.3 6.5 13a6.5 6.5 0 0 1-13 0c0-3 1.6-5 3.2-6.4.2 2 1.2 3.2 2.3 3.6C14.2 11.6 14.6 8 16 5z';
/** The lighter tongue inside it. */
export const TONGUE = 'M16 17.5c.6 1.8 2.8 2.8 2.8 5a2.8 2.8 0 0 1-5.6 0c0-1.4.9-2.3 1.6-2.9.2.7.6 1.1 1 1.2-.2-1.3 0-2.4.2-3.3z';

/**
 * A closed outline as points, from the few path commands the favicon's paths use (M, C, c, a
 * clockwise half circle, z): `curveSteps` points per curve and `arcSteps` per half circle.
 */
export function outline(d, { curveSteps, arcSteps }) {
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
      for (let step = 1; step <= curveSteps; step++) {
        const t = step / curveSteps;
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
      for (let k = 1; k <= arcSteps; k++) {
        const angle = start + (Math.PI * k) / arcSteps;
        points.push([cx + r * Math.cos(angle), y + r * Math.sin(angle)]);
      }
      x += dx;
    } else if (command === 'z') break;
    else throw new Error(`path command ${command} is not drawn`);
    if (points.length === 0) points.push([x, y]);
  }
  return points;
}
