/**
 * Bit-exact re-implementation of the parts of Pillow (9.4) that OpenAI CLIP's preprocessing uses:
 *
 * - `Image.resize(size, BICUBIC)` on 8-bit images: libImaging/Resample.c, antialiased separable
 *   convolution (horizontal pass, then vertical pass, uint8 between the passes) with the bicubic
 *   kernel (a = -0.5) whose support is widened by the downscale factor, coefficients normalised to
 *   sum 1 and then quantised to 22-bit fixed point.
 * - `Image.resize(size, NEAREST)`, which Pillow uses instead for palette ("P") and bilevel ("1")
 *   images: libImaging/Geometry.c ImagingScaleAffine.
 * - The RGBA <-> RGBa (premultiplied alpha) conversions that `Image.resize` wraps around the
 *   resampling of RGBA / LA images: libImaging/Convert.c rgbA2rgba / rgba2rgbA.
 *
 * All images are interleaved (HWC) Uint8Arrays. Everything here is pure and allocation-light: one
 * coefficient table per axis and one intermediate image per call.
 */

/** 8 bits for the result, 2 bits of headroom for the kernel's negative lobes / overshoot. */
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2.0;

/** Pillow's bicubic_filter with a = -0.5, written with the same operation order as the C source. */
function bicubicFilter(x: number): number {
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * -0.5;
  return 0.0;
}

/** Per-output-pixel source window and fixed-point weights for one axis. */
export interface ResampleCoefficients {
  /** Maximum taps per output pixel (row stride of `weights`). */
  ksize: number;
  /** [first source index, tap count] per output pixel. */
  bounds: Int32Array;
  /** outSize * ksize weights in 22-bit fixed point (unused tail slots are 0). */
  weights: Int32Array;
}

/**
 * precompute_coeffs + normalize_coeffs_8bpc for the box (0, inSize): same double arithmetic and
 * the same truncating casts as the C code, so the Int32 weights are identical to Pillow's.
 */
export function precomputeBicubicCoefficients(inSize: number, outSize: number): ResampleCoefficients {
  // (double)(in1 - in0) / outSize with in0 = 0, in1 = (float)inSize.
  const scale = Math.fround(inSize) / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0 + (xx + 0.5) * scale;
    let ww = 0.0;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0.0 ? k[x]! / ww : k[x]!;
      weights[base + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function checkImage(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
    ['outWidth', outWidth],
    ['outHeight', outHeight]
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`resize: ${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) throw new RangeError(`resize: channels must be 1..4, got ${channels}`);
  if (src.length !== width * height * channels) {
    throw new RangeError(`resize: expected ${width}x${height}x${channels} = ${width * height * channels} bytes, got ${src.length}`);
  }
}

/**
 * ImagingResampleHorizontal_8bpc for output columns [x0, x1) of source rows [rowOffset, rowOffset +
 * rows) of `src` (width `inWidth`). `dst` (rows x (x1 - x0) pixels) is a clamped view, so storing
 * `sum >> 22` is Pillow's clip8.
 */
function resampleHorizontal(
  src: Uint8Array,
  inWidth: number,
  channels: number,
  rowOffset: number,
  rows: number,
  x0: number,
  x1: number,
  c: ResampleCoefficients,
  dst: Uint8ClampedArray
): void {
  const { ksize, bounds, weights } = c;
  const inStride = inWidth * channels;
  const outStride = (x1 - x0) * channels;
  let o = 0;
  if (channels === 3) {
    // Two rows per sweep share the coefficient loads and loop overhead.
    let y = 0;
    for (; y + 1 < rows; y += 2) {
      const row = (y + rowOffset) * inStride;
      o = y * outStride;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1]!;
        let p = row + bounds[2 * xx]! * 3;
        let kOff = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let u0 = HALF;
        let u1 = HALF;
        let u2 = HALF;
        for (let t = 0; t < n; t++, p += 3) {
          const w = weights[kOff++]!;
          const q = p + inStride;
          s0 = (s0 + Math.imul(src[p]!, w)) | 0;
          s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
          u0 = (u0 + Math.imul(src[q]!, w)) | 0;
          u1 = (u1 + Math.imul(src[q + 1]!, w)) | 0;
          u2 = (u2 + Math.imul(src[q + 2]!, w)) | 0;
        }
        dst[o] = s0 >> PRECISION_BITS;
        dst[o + 1] = s1 >> PRECISION_BITS;
        dst[o + 2] = s2 >> PRECISION_BITS;
        dst[o + outStride] = u0 >> PRECISION_BITS;
        dst[o + outStride + 1] = u1 >> PRECISION_BITS;
        dst[o + outStride + 2] = u2 >> PRECISION_BITS;
        o += 3;
      }
    }
    if (y < rows) {
      const row = (y + rowOffset) * inStride;
      o = y * outStride;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1]!;
        let p = row + bounds[2 * xx]! * 3;
        let kOff = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let t = 0; t < n; t++, p += 3) {
          const w = weights[kOff++]!;
          s0 = (s0 + Math.imul(src[p]!, w)) | 0;
          s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
        }
        dst[o] = s0 >> PRECISION_BITS;
        dst[o + 1] = s1 >> PRECISION_BITS;
        dst[o + 2] = s2 >> PRECISION_BITS;
        o += 3;
      }
    }
  } else if (channels === 4) {
    let y = 0;
    for (; y + 1 < rows; y += 2) {
      const row = (y + rowOffset) * inStride;
      o = y * outStride;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1]!;
        let p = row + bounds[2 * xx]! * 4;
        let kOff = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let s3 = HALF;
        let u0 = HALF;
        let u1 = HALF;
        let u2 = HALF;
        let u3 = HALF;
        for (let t = 0; t < n; t++, p += 4) {
          const w = weights[kOff++]!;
          const q = p + inStride;
          s0 = (s0 + Math.imul(src[p]!, w)) | 0;
          s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
          s3 = (s3 + Math.imul(src[p + 3]!, w)) | 0;
          u0 = (u0 + Math.imul(src[q]!, w)) | 0;
          u1 = (u1 + Math.imul(src[q + 1]!, w)) | 0;
          u2 = (u2 + Math.imul(src[q + 2]!, w)) | 0;
          u3 = (u3 + Math.imul(src[q + 3]!, w)) | 0;
        }
        dst[o] = s0 >> PRECISION_BITS;
        dst[o + 1] = s1 >> PRECISION_BITS;
        dst[o + 2] = s2 >> PRECISION_BITS;
        dst[o + 3] = s3 >> PRECISION_BITS;
        dst[o + outStride] = u0 >> PRECISION_BITS;
        dst[o + outStride + 1] = u1 >> PRECISION_BITS;
        dst[o + outStride + 2] = u2 >> PRECISION_BITS;
        dst[o + outStride + 3] = u3 >> PRECISION_BITS;
        o += 4;
      }
    }
    if (y < rows) {
      const row = (y + rowOffset) * inStride;
      o = y * outStride;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1]!;
        let p = row + bounds[2 * xx]! * 4;
        let kOff = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let s3 = HALF;
        for (let t = 0; t < n; t++, p += 4) {
          const w = weights[kOff++]!;
          s0 = (s0 + Math.imul(src[p]!, w)) | 0;
          s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
          s3 = (s3 + Math.imul(src[p + 3]!, w)) | 0;
        }
        dst[o] = s0 >> PRECISION_BITS;
        dst[o + 1] = s1 >> PRECISION_BITS;
        dst[o + 2] = s2 >> PRECISION_BITS;
        dst[o + 3] = s3 >> PRECISION_BITS;
        o += 4;
      }
    }
  } else if (channels === 1) {
    for (let y = 0; y < rows; y++) {
      const row = (y + rowOffset) * inStride;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1]!;
        let p = row + bounds[2 * xx]!;
        let kOff = xx * ksize;
        let s0 = HALF;
        for (let t = 0; t < n; t++, p++) s0 = (s0 + Math.imul(src[p]!, weights[kOff++]!)) | 0;
        dst[o++] = s0 >> PRECISION_BITS;
      }
    }
  } else {
    for (let y = 0; y < rows; y++) {
      const row = (y + rowOffset) * inStride;
      for (let xx = x0; xx < x1; xx++) {
        const n = bounds[2 * xx + 1]!;
        const p0 = row + bounds[2 * xx]! * channels;
        const kOff = xx * ksize;
        for (let ch = 0; ch < channels; ch++) {
          let s = HALF;
          for (let t = 0, p = p0 + ch; t < n; t++, p += channels) s = (s + Math.imul(src[p]!, weights[kOff + t]!)) | 0;
          dst[o++] = s >> PRECISION_BITS;
        }
      }
    }
  }
}

/**
 * ImagingResampleVertical_8bpc for output rows [y0, y1): output row yy is the weighted sum of
 * source rows bounds[2yy] - rowShift ... of `src`, over `rowLength` bytes starting at byte
 * `colOffset` of each `srcStride`-byte row. Integer sums do not depend on the order of the terms,
 * so each output row is accumulated tap by tap over contiguous input rows (up to four taps per
 * sweep) instead of walking down columns; the result is identical to Pillow's loop.
 */
function resampleVertical(
  src: Uint8Array,
  srcStride: number,
  colOffset: number,
  rowLength: number,
  rowShift: number,
  y0: number,
  y1: number,
  c: ResampleCoefficients,
  dst: Uint8ClampedArray
): void {
  const { ksize, bounds, weights } = c;
  const acc = new Int32Array(rowLength);
  let o = 0;
  for (let yy = y0; yy < y1; yy++) {
    const n = bounds[2 * yy + 1]!;
    let p = (bounds[2 * yy]! - rowShift) * srcStride + colOffset;
    const kOff = yy * ksize;
    acc.fill(HALF);
    let t = 0;
    for (; t + 3 < n; t += 4) {
      const w0 = weights[kOff + t]!;
      const w1 = weights[kOff + t + 1]!;
      const w2 = weights[kOff + t + 2]!;
      const w3 = weights[kOff + t + 3]!;
      const p1 = p + srcStride;
      const p2 = p1 + srcStride;
      const p3 = p2 + srcStride;
      for (let i = 0; i < rowLength; i++) {
        acc[i] = (acc[i]! + Math.imul(src[p + i]!, w0) + Math.imul(src[p1 + i]!, w1) + Math.imul(src[p2 + i]!, w2) + Math.imul(src[p3 + i]!, w3)) | 0;
      }
      p = p3 + srcStride;
    }
    for (; t + 1 < n; t += 2) {
      const w0 = weights[kOff + t]!;
      const w1 = weights[kOff + t + 1]!;
      const p1 = p + srcStride;
      for (let i = 0; i < rowLength; i++) acc[i] = (acc[i]! + Math.imul(src[p + i]!, w0) + Math.imul(src[p1 + i]!, w1)) | 0;
      p = p1 + srcStride;
    }
    if (t < n) {
      const w0 = weights[kOff + t]!;
      for (let i = 0; i < rowLength; i++) acc[i] = (acc[i]! + Math.imul(src[p + i]!, w0)) | 0;
    }
    for (let i = 0; i < rowLength; i++) dst[o + i] = acc[i]! >> PRECISION_BITS;
    o += rowLength;
  }
}

/**
 * Pillow's `Image.resize((outWidth, outHeight), Image.BICUBIC)` for an 8-bit image with 1..4
 * interleaved channels (modes L, RGB, RGBa, CMYK, ...), bit-exact with ImagingResampleInner:
 * horizontal pass over only the source rows the vertical pass reads, uint8 clip between the
 * passes, and a pass skipped when its size is unchanged. Channels are resampled independently;
 * for Pillow's RGBA behaviour wrap this in premultiplyAlpha / unpremultiplyAlpha. Returns a new
 * array of outWidth * outHeight * channels bytes.
 */
export function resizeBicubic(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  return resizeBicubicRegion(src, width, height, channels, outWidth, outHeight, [0, 0, outWidth, outHeight]);
}

/**
 * Like resizeBicubic, but computes only the pixels of `box` = [left, top, right, bottom] of the
 * resized image (e.g. the centre crop that follows), skipping all work outside it. Every pixel is
 * identical to the corresponding pixel of the full resize. Returns (right-left) * (bottom-top) *
 * channels bytes.
 */
export function resizeBicubicRegion(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  box: readonly [number, number, number, number]
): Uint8Array {
  checkImage(src, width, height, channels, outWidth, outHeight);
  const [x0, y0, x1, y1] = box;
  if (![x0, y0, x1, y1].every(Number.isInteger) || x0 < 0 || y0 < 0 || x1 > outWidth || y1 > outHeight || x1 <= x0 || y1 <= y0) {
    throw new RangeError(`resize: region [${box.join(', ')}] is not inside ${outWidth}x${outHeight}`);
  }
  const regionWidth = x1 - x0;
  const rowLength = regionWidth * channels;
  const out = new Uint8Array(rowLength * (y1 - y0));
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;

  if (!needHorizontal && !needVertical) {
    for (let y = y0; y < y1; y++) out.set(src.subarray((y * width + x0) * channels, (y * width + x1) * channels), (y - y0) * rowLength);
    return out;
  }
  if (!needVertical) {
    resampleHorizontal(src, width, channels, y0, y1 - y0, x0, x1, precomputeBicubicCoefficients(width, outWidth), new Uint8ClampedArray(out.buffer));
    return out;
  }
  const vert = precomputeBicubicCoefficients(height, outHeight);
  if (!needHorizontal) {
    resampleVertical(src, width * channels, x0 * channels, rowLength, 0, y0, y1, vert, new Uint8ClampedArray(out.buffer));
    return out;
  }
  // Source rows read by the vertical pass for output rows [y0, y1) (Pillow: ybox_first / ybox_last).
  const first = vert.bounds[2 * y0]!;
  const last = vert.bounds[2 * (y1 - 1)]! + vert.bounds[2 * (y1 - 1) + 1]!;
  const tmp = new Uint8Array(rowLength * (last - first));
  resampleHorizontal(src, width, channels, first, last - first, x0, x1, precomputeBicubicCoefficients(width, outWidth), new Uint8ClampedArray(tmp.buffer));
  resampleVertical(tmp, rowLength, 0, rowLength, first, y0, y1, vert, new Uint8ClampedArray(out.buffer));
  return out;
}

/**
 * Pillow's `Image.resize(size, Image.NEAREST)` (ImagingScaleAffine with a = [w/outW, 0, 0, 0,
 * h/outH, 0]): source index = floor of an accumulated double, as the C loop does.
 */
export function resizeNearest(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  checkImage(src, width, height, channels, outWidth, outHeight);
  if (outWidth === width && outHeight === height) return src.slice();
  const ax = Math.fround(width) / outWidth;
  const ay = Math.fround(height) / outHeight;
  const xin = new Int32Array(outWidth);
  let xmin = outWidth;
  let xmax = 0;
  let xo = 0 + ax * 0.5;
  for (let x = 0; x < outWidth; x++) {
    const xi = xo < 0 ? -1 : Math.trunc(xo);
    if (xi >= 0 && xi < width) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      xin[x] = xi;
    }
    xo += ax;
  }
  const out = new Uint8Array(outWidth * outHeight * channels);
  let yo = 0 + ay * 0.5;
  for (let y = 0; y < outHeight; y++) {
    const yi = yo < 0 ? -1 : Math.trunc(yo);
    if (yi >= 0 && yi < height) {
      const row = yi * width * channels;
      const o = y * outWidth * channels;
      for (let x = xmin; x < xmax; x++) {
        const s = row + xin[x]! * channels;
        const d = o + x * channels;
        for (let ch = 0; ch < channels; ch++) out[d + ch] = src[s + ch]!;
      }
    }
    yo += ay;
  }
  return out;
}

/** Convert.c rgbA2rgba (mode RGBA -> RGBa): colour * alpha / 255 via MULDIV255. Returns a new array. */
export function premultiplyAlpha(rgba: Uint8Array): Uint8Array {
  if (rgba.length % 4 !== 0) throw new RangeError('premultiplyAlpha: length is not a multiple of 4');
  const out = new Uint8Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    let t = rgba[i]! * a + 128;
    out[i] = ((t >> 8) + t) >> 8;
    t = rgba[i + 1]! * a + 128;
    out[i + 1] = ((t >> 8) + t) >> 8;
    t = rgba[i + 2]! * a + 128;
    out[i + 2] = ((t >> 8) + t) >> 8;
    out[i + 3] = a;
  }
  return out;
}

/**
 * Convert.c rgba2rgbA (mode RGBa -> RGBA), in place: colour * 255 / alpha with truncating integer
 * division, clipped to 255; pixels with alpha 0 or 255 keep their stored colour.
 */
export function unpremultiplyAlpha(rgba: Uint8Array): Uint8Array {
  if (rgba.length % 4 !== 0) throw new RangeError('unpremultiplyAlpha: length is not a multiple of 4');
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    if (a === 255 || a === 0) continue;
    for (let ch = i; ch < i + 3; ch++) {
      const v = ((255 * rgba[ch]!) / a) | 0;
      rgba[ch] = v > 255 ? 255 : v;
    }
  }
  return rgba;
}
