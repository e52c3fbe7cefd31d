// @vitest-environment happy-dom
// The Gallery's rows of images (components/gallery/ImageGrid.vue): one grid, fixed-width columns.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ImageGrid from '../../../../../src-renderer/components/gallery/ImageGrid.vue';
import { px } from '../../icons-host';

describe('one grid for the Gallery rows', () => {
  it('puts every image in a fixed-width column of one grid, captions included', () => {
    const img = px(9);
    const caption = 'MSE 0.0123\nPSNR 19.1 dB\nSSIM 0.812 — a long caption that must not widen its column';
    const w = mount(ImageGrid, {
      props: {
        shape: [28, 28, 1],
        rows: [
          { key: 'originals', label: 'Original', images: [img, img, img] },
          {
            key: 'reconstructions',
            label: 'Reconstruction',
            images: [img, img, img],
            captions: [caption, caption, caption],
          },
        ],
      },
    });
    const grid = w.find('[data-testid="image-grid"]');
    expect((grid.element as HTMLElement).style.gridTemplateColumns).toBe('auto repeat(3, 78px)');
    expect(w.findAll('figure[data-row="originals"]').map((f) => f.attributes('data-col'))).toEqual(['0', '1', '2']);
    expect(w.findAll('figure[data-row="reconstructions"]').map((f) => f.attributes('data-col'))).toEqual([
      '0',
      '1',
      '2',
    ]);
    // a shorter row is padded so the next row starts in the first column again
    const w2 = mount(ImageGrid, {
      props: {
        shape: [28, 28, 1],
        rows: [
          { key: 'a', label: 'A', images: [img, img] },
          { key: 'b', label: 'B', images: [img] },
        ],
      },
    });
    expect(w2.find('[data-testid="image-grid"]').element.children).toHaveLength(2 * 3);
  });
});
