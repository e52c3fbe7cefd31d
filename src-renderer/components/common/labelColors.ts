// One colour per label, the same in every panel (latent map, error histogram, legends): twelve
// colour-blind-safe colours (the --label-N variables in styles/base.css, each with a lighter twin
// for the dark theme), label N taking colour N mod 12. Text stays in the text colour beside a
// swatch, so names are readable on both themes whatever the colour.
import { themeColor } from '../../composables/useUplot';

export const LABEL_COLOR_COUNT = 12;

/** The label's colour as a CSS value that follows the theme (for style bindings). */
export const labelVar = (label: number): string =>
  `var(--label-${((label % LABEL_COLOR_COUNT) + LABEL_COLOR_COUNT) % LABEL_COLOR_COUNT})`;

/** The label's colour resolved for the current theme (for canvases); call again after a theme change. */
export const labelColor = (label: number): string =>
  themeColor(`--label-${((label % LABEL_COLOR_COUNT) + LABEL_COLOR_COUNT) % LABEL_COLOR_COUNT}`, '#888');
