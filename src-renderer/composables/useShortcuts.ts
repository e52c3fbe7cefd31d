// The studio's keyboard shortcuts besides Alt+1…6 (App.vue): train, stop, resume, and this list
// (the ? panel). Keys typed into a text field are left alone, except the Alt/Ctrl combinations.
import { onBeforeUnmount, onMounted } from 'vue';
import { useUiStore } from '../stores/ui';
import { useModelStore } from '../stores/model';
import { useRunsStore } from '../stores/runs';

export const SHORTCUTS: Array<{ keys: string[]; what: string }> = [
  { keys: ['Alt', '1…6'], what: 'Switch views: Datasets, Model, Noise, Train, Gallery, Export' },
  { keys: ['Alt', 'Enter'], what: "Train the Model view's configuration" },
  { keys: ['Alt', 'S'], what: 'Stop the run shown in the Train view' },
  { keys: ['Alt', 'R'], what: 'Resume it from its last checkpoint' },
  { keys: ['?'], what: 'Show or hide this list' },
  { keys: ['Esc'], what: 'Close this list' },
];

/** True while the user types into a text field (a checkbox or a radio button does not count). */
const typing = (t: EventTarget | null) =>
  t instanceof HTMLElement &&
  (t.isContentEditable ||
    ['TEXTAREA', 'SELECT'].includes(t.tagName) ||
    (t instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'range'].includes(t.type)));

/** Registers the shortcuts for as long as the calling component lives. */
export function useShortcuts() {
  const ui = useUiStore();
  const model = useModelStore();
  const runs = useRunsStore();

  async function trainNow() {
    if (!model.valid) {
      ui.go('model'); // the fields to fix are marked there
      return;
    }
    if (await model.train()) ui.go('train');
  }

  function onKey(e: KeyboardEvent) {
    if (e.defaultPrevented || e.metaKey) return;
    const combo = e.altKey || e.ctrlKey;
    if (combo && !e.shiftKey && e.key === 'Enter') {
      e.preventDefault();
      void trainNow();
      return;
    }
    if (e.altKey && !e.ctrlKey && !e.shiftKey && (e.code === 'KeyS' || e.code === 'KeyR')) {
      const r = runs.selected?.summary;
      if (!r) return;
      e.preventDefault();
      if (e.code === 'KeyS' && (r.status === 'running' || r.status === 'queued')) void runs.stop(r.runId);
      // the host decides whether a run resumes from a checkpoint (runs:list), as the Train view's Resume does
      if (e.code === 'KeyR' && (r.status === 'stopped' || r.status === 'failed') && r.resume === 'checkpoint')
        void runs.resume(r.runId);
      return;
    }
    if (e.key === 'Escape' && ui.helpOpen) {
      ui.helpOpen = false;
      return;
    }
    if (e.key === '?' && !combo && !typing(e.target)) {
      e.preventDefault();
      ui.helpOpen = !ui.helpOpen;
    }
  }
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
  return { trainNow };
}
