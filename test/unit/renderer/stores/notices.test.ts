// @vitest-environment happy-dom
// Notices: an error belongs to the view it was raised in and goes when another view is shown;
// the host's own notices and warnings stay until dismissed.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick } from 'vue';
import { useNoticesStore } from '../../../../src-renderer/stores/notices';
import { useUiStore } from '../../../../src-renderer/stores/ui';

beforeEach(() => setActivePinia(createPinia()));

describe('notices', () => {
  it("drops a view's errors when the user moves on, keeps warnings and the host's errors", async () => {
    const ui = useUiStore();
    const notices = useNoticesStore();
    ui.go('datasets');
    notices.push('error', 'The preview failed: no file could be read.');
    notices.push('warning', 'Run run-1 trains with the slower step.');
    notices.push('error', 'The trainer process was killed (SIGKILL).', Date.now(), 'app');
    expect(notices.items.map((n) => n.message)).toHaveLength(3);
    ui.go('datasets'); // staying keeps it
    await nextTick();
    expect(notices.items).toHaveLength(3);
    ui.go('model');
    await nextTick();
    expect(notices.items.map((n) => n.message)).toEqual([
      'Run run-1 trains with the slower step.',
      'The trainer process was killed (SIGKILL).',
    ]);
    // an error raised in the Model view stays while it is shown
    notices.push('error', 'The run could not start.');
    await nextTick();
    expect(notices.items.at(-1)?.view).toBe('model');
  });
});
