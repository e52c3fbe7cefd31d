// @vitest-environment happy-dom
// The latent map (components/gallery/LatentMap.vue) names its points by the dataset's label names.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import LatentMap from '../../../../../src-renderer/components/gallery/LatentMap.vue';

describe('label names', () => {
  it('shows the stored names in the latent map legend, not label numbers', () => {
    const w = mount(LatentMap, {
      props: {
        data: {
          points: [0, 0, 1, 1, 2, 0],
          labels: [2, 0, 2],
          labelNames: ['apps', 'files', 'folders', 'system'],
          method: 'pca',
          explained: 0.8,
        },
      },
    });
    expect(w.findAll('[data-testid="latent-legend"] li').map((li) => li.text())).toEqual(['apps', 'folders']);
  });
});
