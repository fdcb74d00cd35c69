import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/**
 * The baseline every reading benchmark compares with: only what reading a part must do —
 * read, gunzip, split on varint prefixes, decode — with the same buffer sizes as seedline's
 * reader, so a ratio measures seedline's own overhead. Returns the records decoded.
 */
export async function bareDecode(file: string, decode: (bytes: Uint8Array) => unknown): Promise<number> {
  let count = 0;
  const gunzip = createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(createGunzip({ chunkSize: 256 * 1024 }));
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      let length = 0;
      let shift = 0;
      let p = pos;
      let b = 0x80;
      while (b & 0x80 && p < buf.length) {
        b = buf[p++]!;
        length |= (b & 0x7f) << shift;
        shift += 7;
      }
      if (b & 0x80 || p + length > buf.length) break;
      decode(buf.subarray(p, p + length));
      count++;
      pos = p + length;
    }
    rest = buf.subarray(pos);
  }
  return count;
}
