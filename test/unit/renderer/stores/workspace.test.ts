// @vitest-environment happy-dom
// The workspace store (stores/workspace.ts) over the in-memory fake host: the theme setting on
// <html> (following the OS again for "system"), and runs reloaded when another workspace opens.
import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { useWorkspaceStore } from '../../../../src-renderer/stores/workspace';
import { settings, info, workspaceHost as host } from '../workspace-host';

beforeEach(() => {
  setActivePinia(createPinia());
  delete document.documentElement.dataset.theme;
});

describe('workspace store', () => {
  it('puts the chosen theme on <html> and follows the OS again for "system"', async () => {
    let current = { ...settings };
    host({
      'workspace:info': () => ({ ok: true, result: info({ settings: current }) }),
      'settings:set': (p) => ((current = { ...current, ...(p as object) }), { ok: true, result: current }),
    });
    const ws = useWorkspaceStore();
    await ws.init();
    expect(document.documentElement.dataset.theme).toBeUndefined();
    await ws.setSettings({ theme: 'dark' });
    await flushPromises();
    expect(document.documentElement.dataset.theme).toBe('dark');
    await ws.setSettings({ theme: 'system' });
    await flushPromises();
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it('reloads runs when the host says another workspace was opened (desktop File menu)', async () => {
    const t = host({ 'workspace:info': () => ({ ok: true, result: info() }) });
    const ws = useWorkspaceStore();
    await ws.init();
    const before = t.calls.filter((c) => c.name === 'runs:list').length;
    t.emit('workspace:changed', info({ path: '/ws/other' }));
    await flushPromises();
    expect(ws.info?.path).toBe('/ws/other');
    expect(t.calls.filter((c) => c.name === 'runs:list').length).toBeGreaterThan(before);
  });
});
