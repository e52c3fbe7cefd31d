// The Model view's draft: the whole form, the dataset and its image count, kept in the workspace
// (settings.json) half a second after the last change, and put back field by field on a reload or
// a restart (without a draft: from the newest run).
import { computed, onScopeDispose, watch, type ComputedRef } from 'vue';
import type { AugmentConfig, ModelDraft, NoiseConfig } from '@contract';
import { useRunsStore } from '../runs';
import { useWorkspaceStore } from '../workspace';
import type { useDatasetsStore } from '../datasets';
import type { ModelForm } from './presets';
import { BUILTIN_MNIST, type RunSource } from './source';

/**
 * The form's plain fields a draft carries, with the type each must have. Typed as every field of
 * the form but the three kept apart (noise, augment, excludeLabels: restored by restoreDraft), so
 * a new field that is not saved with the draft is a type error, not a setting lost on reload.
 */
const DRAFT_FIELDS: Record<
  Exclude<keyof ModelForm, 'noise' | 'augment' | 'excludeLabels'>,
  'string' | 'number' | 'boolean'
> = {
  kind: 'string',
  latentDim: 'number',
  hiddenText: 'string',
  activation: 'string',
  outputActivation: 'string',
  loss: 'string',
  ssimWeight: 'number',
  optimizer: 'string',
  learningRate: 'number',
  momentum: 'number',
  batchSize: 'number',
  epochs: 'number',
  validationSplit: 'number',
  earlyStoppingPatience: 'number',
  seed: 'number',
  beta: 'number',
  l1: 'number',
  previewEvery: 'number',
  kernelSize: 'number',
  klWarmupEpochs: 'number',
  testSplit: 'number',
  balanceClasses: 'boolean',
  cropSize: 'number',
};
/** How long the draft waits for more edits before it is saved in the workspace. */
export const DRAFT_SAVE_MS = 500;

export function useDraft(
  form: ModelForm,
  src: RunSource,
  presetId: ComputedRef<string | undefined>,
  datasets: ReturnType<typeof useDatasetsStore>,
) {
  const { source, count } = src;
  // The draft lives in the workspace (settings.json): a reload or a restart finds the form as it was.
  const draft = computed<ModelDraft>(() => {
    const fields: ModelDraft['form'] = {
      noise: { ...form.noise },
      augment: { ...form.augment },
      excludeLabels: [...form.excludeLabels],
    };
    for (const [k, type] of Object.entries(DRAFT_FIELDS)) {
      const v = (form as unknown as Record<string, unknown>)[k];
      if (typeof v === type && (type !== 'number' || Number.isFinite(v))) fields[k] = v as string | number | boolean;
    }
    return {
      dataset: source.value,
      count: Number.isFinite(count.value) ? Math.max(0, Math.round(count.value)) : 0,
      ...(presetId.value ? { presetId: presetId.value } : {}),
      form: fields,
    };
  });
  /** Puts a saved draft back, field by field; a field of the wrong type is left as it is. */
  function restoreDraft(d: ModelDraft) {
    for (const [k, type] of Object.entries(DRAFT_FIELDS)) {
      const v = d.form[k];
      if (typeof v === type && (type !== 'number' || Number.isFinite(v)))
        (form as unknown as Record<string, unknown>)[k] = v;
    }
    const n = d.form.noise as { type?: unknown; level?: unknown } | undefined;
    if (
      n &&
      typeof n === 'object' &&
      ['none', 'gaussian', 'salt-pepper', 'masking'].includes(String(n.type)) &&
      typeof n.level === 'number'
    )
      form.noise = { type: n.type as NoiseConfig['type'], level: n.level };
    const a = d.form.augment as Partial<Record<keyof AugmentConfig, unknown>> | undefined;
    if (a && typeof a === 'object') {
      form.augment = {
        flip: a.flip === true,
        shift: typeof a.shift === 'number' && Number.isFinite(a.shift) ? a.shift : 0,
        rotate: typeof a.rotate === 'number' && Number.isFinite(a.rotate) ? a.rotate : 0,
        brightness: typeof a.brightness === 'number' && Number.isFinite(a.brightness) ? a.brightness : 0,
      };
    }
    const ex = d.form.excludeLabels;
    form.excludeLabels = Array.isArray(ex)
      ? [...new Set(ex.filter((l) => Number.isInteger(l) && l >= 0))].sort((x, y) => x - y)
      : [];
    source.value = d.dataset || BUILTIN_MNIST;
    if (d.count > 0) count.value = d.count;
  }
  /** No draft yet: start from the newest run's config and dataset, if any. */
  function restoreFromRun(s: {
    config: Record<string, unknown>;
    dataset: { builtin?: string; id?: string; count?: number };
  }) {
    const c = s.config;
    const f: ModelDraft['form'] = {};
    for (const k of Object.keys(DRAFT_FIELDS)) if (k in c) f[k] = c[k] as never;
    if (Array.isArray(c.hidden)) f.hiddenText = (c.hidden as number[]).join(', ');
    if (c.noise && typeof c.noise === 'object') f.noise = c.noise as never;
    if (c.augment && typeof c.augment === 'object') f.augment = c.augment as never;
    if (Array.isArray(c.excludeLabels)) f.excludeLabels = c.excludeLabels as number[];
    restoreDraft({
      dataset: s.dataset.builtin ? BUILTIN_MNIST : (s.dataset.id ?? BUILTIN_MNIST),
      count: s.dataset.count ?? 0,
      form: f,
    });
  }
  let restoredFor: string | undefined;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  // a store that goes away (its Pinia is disposed) saves nothing afterwards
  onScopeDispose(() => clearTimeout(saveTimer));
  const workspace = useWorkspaceStore();
  watch(
    () => workspace.info?.path,
    async (path) => {
      if (!path || path === restoredFor) return;
      restoredFor = undefined; // no saving while the form is being put back
      const saved = workspace.info?.settings.modelDraft;
      if (saved) restoreDraft(saved);
      else {
        const runs = useRunsStore();
        await runs.refresh();
        const newest = runs.order.map((id) => runs.runs[id]?.summary).find((x) => x && x.status !== 'damaged');
        if (newest) restoreFromRun(newest as never);
      }
      if (source.value !== BUILTIN_MNIST) void datasets.refresh();
      restoredFor = path;
    },
    { immediate: true },
  );
  watch(
    () => JSON.stringify(draft.value),
    () => {
      if (!restoredFor) return;
      clearTimeout(saveTimer);
      const path = restoredFor;
      saveTimer = setTimeout(() => {
        if (restoredFor === path) void workspace.setSettings({ modelDraft: draft.value });
      }, DRAFT_SAVE_MS);
    },
  );

  return { draft, restoreDraft };
}
