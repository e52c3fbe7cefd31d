// The model kinds' table and the compiler's part in adding a kind. The `@ts-expect-error` lines are
// checked by `tsc -p tsconfig.node.json` (the type check CI runs): each marks code the compiler
// must refuse — a per-kind table missing a kind, a switch over the kinds of code missing one. If the
// tables stopped being `Record<ModelKind, …>` or a switch stopped being exhaustive, the directive
// would be unused and the type check would fail.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HIDDEN,
  MODEL_KINDS,
  MODEL_KIND_TRAITS,
  codeOf,
  isConv,
  isVae,
  kindTitle,
  unreachable,
  validateConfig,
  type ModelKind,
  type ModelKindTraits,
} from '../../../../src-main/contract';

describe('the model kinds', () => {
  it('every kind has its traits, its default layers and a title, and the helpers read the table', () => {
    expect(Object.keys(MODEL_KIND_TRAITS).sort()).toEqual([...MODEL_KINDS].sort());
    expect(Object.keys(DEFAULT_HIDDEN).sort()).toEqual([...MODEL_KINDS].sort());
    expect(MODEL_KINDS.filter(isVae)).toEqual(['vae', 'conv-vae']);
    expect(MODEL_KINDS.filter(isConv)).toEqual(['conv', 'conv-vae']);
    expect(MODEL_KINDS.filter((k) => codeOf(k) === 'sparse')).toEqual(['sparse']);
    expect(kindTitle('conv-vae')).toBe('Convolutional VAE');
    expect(new Set(MODEL_KINDS.map(kindTitle)).size).toBe(MODEL_KINDS.length);
  });

  it("checks each kind's fewest hidden layers from the table", () => {
    const deep = validateConfig({ kind: 'deep-dense', inputShape: [28, 28, 1], hidden: [] });
    expect(deep.ok ? [] : deep.errors).toEqual([
      { field: 'hidden', message: 'a deep dense model needs at least one hidden layer' },
    ]);
    expect(validateConfig({ kind: 'dense', inputShape: [28, 28, 1], hidden: [] }).ok).toBe(true);
  });

  it('unreachable names what a switch did not expect (a value from a file the types did not foresee)', () => {
    expect(() => unreachable('contractive' as never, 'kind of code')).toThrow("unknown kind of code 'contractive'");
  });
});

describe('the compiler lists the places a new kind must fill in (checked by tsc)', () => {
  it('refuses a per-kind table that misses a kind', () => {
    // @ts-expect-error — 'sparse' is missing: a Record<ModelKind, …> must name every kind
    const titles: Record<ModelKind, string> = { dense: 'D', 'deep-dense': 'DD', conv: 'C', vae: 'V', 'conv-vae': 'CV' };
    // @ts-expect-error — the traits table itself is such a table
    const traits: typeof MODEL_KIND_TRAITS = { dense: MODEL_KIND_TRAITS.dense };
    expect(Object.keys(titles)).toHaveLength(5);
    expect(Object.keys(traits)).toHaveLength(1);
  });

  it('refuses a switch over the kinds of code that misses one', () => {
    const penalty = (code: ModelKindTraits['code']): string => {
      switch (code) {
        case 'variational':
          return 'KL';
        case 'plain':
          return '';
        default:
          // @ts-expect-error — 'sparse' is not handled, so `code` is not `never` here
          return unreachable(code, 'kind of code');
      }
    };
    expect(penalty('variational')).toBe('KL');
    expect(() => penalty('sparse')).toThrow("unknown kind of code 'sparse'");
  });
});
