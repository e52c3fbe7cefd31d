// One uPlot chart's life in a component: built on mount at the element's width, resized with it,
// redrawn at most once per animation frame however many events arrive, destroyed on unmount.
// Axis colours come from the theme (resolved, since the variables hold light-dark(…)).
import { onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A theme colour resolved to rgb(): only an element's computed colour resolves light-dark(…). */
export function themeColor(name: string, fallback: string): string {
  const probe = document.createElement('span');
  probe.style.color = `var(${name}, ${fallback})`;
  document.body.appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color || fallback;
}

/**
 * Bumped whenever the colours may have changed: the theme chosen in the settings (data-theme on
 * <html>) or the OS theme. Charts rebuild on it, so their axes and grid follow at once.
 */
export const themeTick = ref(0);
let watchingTheme = false;
/** Starts bumping themeTick on theme changes (once; every chart and canvas that follows the theme calls it). */
export function watchTheme() {
  if (watchingTheme || typeof document === 'undefined') return;
  watchingTheme = true;
  if (typeof MutationObserver !== 'undefined')
    new MutationObserver(() => themeTick.value++).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ['data-theme'],
    });
  window.matchMedia?.('(prefers-color-scheme: dark)')?.addEventListener?.('change', () => themeTick.value++);
}

/** Epoch (x) and loss (y) axes in the theme's colours. */
export function lossAxes(x: Partial<uPlot.Axis> = {}): uPlot.Axis[] {
  const stroke = themeColor('--muted', '#666');
  const grid = { stroke: themeColor('--border', '#ddd') };
  return [
    { label: 'epoch', stroke, grid, ...x },
    { label: 'loss', stroke, grid, size: 60 },
  ];
}

export function useUplot(
  el: Ref<HTMLDivElement | undefined>,
  height: number,
  options: () => Omit<uPlot.Options, 'width' | 'height'>,
  data: () => uPlot.AlignedData,
) {
  let plot: uPlot | undefined;
  let frame = 0;
  let resize: ResizeObserver | undefined;

  /** (Re)creates the chart, e.g. when its series change. */
  function build() {
    plot?.destroy();
    plot = undefined;
    if (!el.value) return;
    plot = new uPlot({ ...options(), width: el.value.clientWidth || 600, height }, data(), el.value);
  }
  /** New points: one redraw per animation frame. */
  function redraw() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      plot?.setData(data());
    });
  }

  watchTheme();
  watch(themeTick, () => build());
  onMounted(() => {
    build();
    // Follow the panel's width (window resizes, sidebar changes).
    resize = new ResizeObserver(() => {
      const w = el.value?.clientWidth ?? 0;
      if (plot && w > 0 && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
    });
    if (el.value) resize.observe(el.value);
  });
  onBeforeUnmount(() => {
    if (frame) cancelAnimationFrame(frame);
    resize?.disconnect();
    plot?.destroy();
  });
  return { build, redraw };
}
