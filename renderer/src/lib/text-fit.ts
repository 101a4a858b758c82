/**
 * Text cut to fit a width in pixels, with an ellipsis, measured with a canvas in the given CSS
 * font (cached per text, width and font: a graph repeats few labels).
 */
let ctx: CanvasRenderingContext2D | null | undefined;
const cache = new Map<string, string>();

function measure(text: string, font: string): number {
  if (ctx === undefined) ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return text.length * 7; // no canvas: a fair average for a 12px sans-serif
  ctx.font = font;
  return ctx.measureText(text).width;
}

export function fitText(text: string, maxWidth: number, font: string): string {
  const k = `${font}|${maxWidth}|${text}`;
  const hit = cache.get(k);
  if (hit !== undefined) return hit;
  let out = text;
  if (measure(text, font) > maxWidth) {
    // the longest prefix that fits with the ellipsis (binary search on its length)
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (measure(`${text.slice(0, mid)}…`, font) <= maxWidth) lo = mid;
      else hi = mid - 1;
    }
    out = `${text.slice(0, lo).trimEnd()}…`;
  }
  if (cache.size > 2000) cache.clear();
  cache.set(k, out);
  return out;
}
