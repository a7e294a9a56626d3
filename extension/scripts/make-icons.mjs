// Draws the toolbar icons (a keyhole on a rounded square) into public/icons/*.png. Run once; the PNGs are committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const ACCENT = [59, 91, 219];

function coverage(x, y) {
  // Unit square coordinates in [0,1]; returns [insideSquare, insideKeyhole].
  const r = 0.22;
  const dx = Math.max(r - x, 0, x - (1 - r));
  const dy = Math.max(r - y, 0, y - (1 - r));
  const square = dx * dx + dy * dy <= r * r;
  const cx = 0.5,
    cy = 0.4,
    hole = 0.15;
  const circle = (x - cx) ** 2 + (y - cy) ** 2 <= hole * hole;
  const t = (y - 0.42) / (0.78 - 0.42);
  const half = 0.06 + 0.05 * t;
  const stem = t >= 0 && t <= 1 && Math.abs(x - cx) <= half;
  return [square, circle || stem];
}

function png(size) {
  const samples = 4;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      let inSquare = 0,
        inHole = 0;
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++) {
          const [s, h] = coverage((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size);
          if (s) {
            inSquare++;
            if (h) inHole++;
          }
        }
      const n = samples * samples;
      const alpha = inSquare / n;
      const white = inSquare ? inHole / inSquare : 0;
      const o = y * (size * 4 + 1) + 1 + x * 4;
      for (let c = 0; c < 3; c++) raw[o + c] = Math.round(ACCENT[c] * (1 - white) + 255 * white);
      raw[o + 3] = Math.round(alpha * 255);
    }
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

for (const size of [16, 32, 48, 128]) writeFileSync(new URL(`../public/icons/icon-${size}.png`, import.meta.url), png(size));
