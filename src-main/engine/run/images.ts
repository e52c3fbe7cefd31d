// The images of one run: the train / validation / test split (with the config's left-out labels)
// and the batch sources every batch is filled from (data.ts BatchSource: no float copy of a split).
import type { ModelConfig } from '../config';
import { BatchSource, balancedOrder, evalBatchSize, splitIndices, withoutLabels, type TrainingData } from '../data';
import { permutation } from '../rng';
import { CropView, cropRefusal } from '../crops';

export interface RunSplit {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

export class RunImages {
  /** Images per validation chunk (data.ts evalBatchSize). */
  readonly valChunk: number;
  readonly val: BatchSource | undefined;
  readonly train: BatchSource;
  /** Batches per epoch. */
  readonly batches: number;
  private readonly trainLabels: Int32Array | undefined;

  private constructor(
    /** What validation, previews and the end-of-run measures read: the dataset, or its fixed crops (crops.ts). */
    readonly dataset: TrainingData,
    readonly split: RunSplit,
    private readonly c: ModelConfig,
    /** A crop run's training crops: their epoch is set before each epoch's batches. */
    private readonly trainCrops?: CropView,
  ) {
    const labels = dataset.labels;
    this.train = new BatchSource(trainCrops ?? dataset, split.train, c.batchSize);
    this.valChunk = evalBatchSize(c.inputShape, c.batchSize);
    this.val = split.val.length ? new BatchSource(dataset, split.val, this.valChunk) : undefined;
    this.trainLabels = labels ? Int32Array.from(split.train, (i) => labels[i]) : undefined;
    this.batches = Math.ceil(split.train.length / c.batchSize);
  }

  /** Splits the dataset as the config says, or explains (in words) why the run cannot train on it. */
  static plan(c: ModelConfig, dataset: TrainingData): RunImages | string {
    const labels = dataset.labels;
    const crop = c.cropSize > 0 ? cropRefusal(dataset, c.cropSize) : undefined;
    if (crop) return crop;
    const needLabels = c.balanceClasses ? 'balance classes' : c.excludeLabels.length ? 'leave labels out' : undefined;
    if (needLabels && !labels)
      return `This dataset has no labels, so the run cannot ${needLabels}. Import it from sub-folders named by label, or turn the option off.`;
    const split0 = splitIndices(dataset.count, c.validationSplit, c.seed, c.testSplit);
    const split = {
      train: withoutLabels(split0.train, labels, c.excludeLabels),
      val: withoutLabels(split0.val, labels, c.excludeLabels),
      test: split0.test,
    };
    if (split.train.length === 0)
      return `Leaving out label${c.excludeLabels.length === 1 ? '' : 's'} ${c.excludeLabels.join(', ')} leaves no image to train on.`;
    if (c.batchSize > split.train.length)
      return `The batch (${c.batchSize}) is larger than the training data (${split.train.length} images once labels ${c.excludeLabels.join(', ')} are left out).`;
    if (c.cropSize > 0)
      return new RunImages(
        new CropView(dataset, c.cropSize, c.seed),
        split,
        c,
        new CropView(dataset, c.cropSize, c.seed),
      );
    return new RunImages(dataset, split, c);
  }

  /** Training images. */
  get nTrain(): number {
    return this.split.train.length;
  }

  /** The batch sizes an epoch uses (a full batch and, if the split does not divide evenly, the last one). */
  batchSizes(): number[] {
    const c = this.c;
    return [Math.min(c.batchSize, this.nTrain), this.nTrain % c.batchSize].filter((n) => n > 0);
  }

  /**
   * The order of the training images in `epoch`: shuffled with the run's seed, or balanced by label.
   * A crop run's training batches take this epoch's crops from here on.
   */
  order(epoch: number): Int32Array {
    const c = this.c;
    if (this.trainCrops) this.trainCrops.epoch = epoch;
    return c.balanceClasses && this.trainLabels
      ? balancedOrder(this.trainLabels, c.seed + epoch)
      : permutation(this.nTrain, c.seed + epoch);
  }

  /** The images previews show: the first six of the validation split (the training split without one). */
  previewRows(): Int32Array {
    return (this.val ?? this.train).rows.subarray(0, 6);
  }
}
