// Pixels travel to the renderer as base64 of raw uint8 values (JSON- and structured-clone-safe).

/** base64 of a byte view, without copying it. */
export const toBase64 = (a: Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** base64 of each image in a flat N·size pixel array. */
export const imagesToBase64 = (pixels: Uint8Array, size: number): string[] =>
  Array.from({ length: Math.floor(pixels.length / size) }, (_, i) =>
    toBase64(pixels.subarray(i * size, (i + 1) * size)),
  );

/** The pixels of one image sent as base64. */
export const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
