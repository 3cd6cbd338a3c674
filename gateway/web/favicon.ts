/**
 * The gateway's icon, drawn here: a white cross on a rounded blue-France square (the DSFR's main
 * colour). The SVG for browsers that take it; the same drawing as a 32×32 ICO for `/favicon.ico`,
 * which browsers ask for on their own.
 */

const SIZE = 32;
const RADIUS = 6;
/** DSFR blue-france-sun-113 (#000091). */
const BLUE = [0x00, 0x00, 0x91] as const;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}"><rect width="${SIZE}" height="${SIZE}" rx="${RADIUS}" fill="#000091"/><path d="M13 6h6v7h7v6h-7v7h-6v-7H6v-6h7z" fill="#fff"/></svg>`;

/** Whether the pixel (x, y) lies inside the rounded square, and whether it is on the cross. */
function pixel(x: number, y: number): 'out' | 'blue' | 'white' {
  const cx = x < RADIUS ? RADIUS : x >= SIZE - RADIUS ? SIZE - RADIUS - 1 : x;
  const cy = y < RADIUS ? RADIUS : y >= SIZE - RADIUS ? SIZE - RADIUS - 1 : y;
  if ((x - cx) ** 2 + (y - cy) ** 2 > RADIUS ** 2) return 'out';
  const bar = (v: number, from: number, to: number) => v >= from && v < to;
  if ((bar(x, 13, 19) && bar(y, 6, 26)) || (bar(y, 13, 19) && bar(x, 6, 26))) return 'white';
  return 'blue';
}

/**
 * ICO file with one 32×32 32-bit BMP image (ICONDIR, ICONDIRENTRY, BITMAPINFOHEADER with twice the
 * height, BGRA rows bottom-up, then the 1-bit AND mask), as Windows' icon format describes it.
 */
export function faviconIco(): Buffer {
  const pixels = SIZE * SIZE * 4;
  const maskRow = Math.ceil(SIZE / 32) * 4;
  const image = 40 + pixels + maskRow * SIZE;
  const out = Buffer.alloc(6 + 16 + image);
  out.writeUInt16LE(0, 0); // reserved
  out.writeUInt16LE(1, 2); // type: icon
  out.writeUInt16LE(1, 4); // one image
  out.writeUInt8(SIZE, 6);
  out.writeUInt8(SIZE, 7);
  out.writeUInt8(0, 8); // no palette
  out.writeUInt8(0, 9);
  out.writeUInt16LE(1, 10); // planes
  out.writeUInt16LE(32, 12); // bits per pixel
  out.writeUInt32LE(image, 14);
  out.writeUInt32LE(22, 18); // offset of the image
  let o = 22;
  out.writeUInt32LE(40, o); // BITMAPINFOHEADER size
  out.writeInt32LE(SIZE, o + 4);
  out.writeInt32LE(SIZE * 2, o + 8); // XOR image and AND mask
  out.writeUInt16LE(1, o + 12);
  out.writeUInt16LE(32, o + 14);
  out.writeUInt32LE(0, o + 16); // BI_RGB
  out.writeUInt32LE(pixels + maskRow * SIZE, o + 20);
  o += 40;
  for (let row = SIZE - 1; row >= 0; row--) {
    for (let x = 0; x < SIZE; x++, o += 4) {
      const p = pixel(x, row);
      const [r, g, b, a] =
        p === 'white' ? [255, 255, 255, 255] : p === 'blue' ? [...BLUE, 255] : [0, 0, 0, 0];
      out.writeUInt8(b, o);
      out.writeUInt8(g, o + 1);
      out.writeUInt8(r, o + 2);
      out.writeUInt8(a, o + 3);
    }
  }
  // AND mask: 1 where transparent (ignored by 32-bit readers, which take the alpha, kept for the others)
  for (let row = SIZE - 1; row >= 0; row--, o += maskRow) {
    for (let x = 0; x < SIZE; x++) {
      if (pixel(x, row) === 'out') out[o + (x >> 3)] = (out[o + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
    }
  }
  return out;
}
