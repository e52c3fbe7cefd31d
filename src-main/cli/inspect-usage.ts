// The usage lines of `ae-studio inspect`, apart from the command (which loads tfjs-node) so that
// every other command's help stays light.
export const INSPECT_USAGE =
  'ae-studio inspect --workspace DIR --run ID PATH... [--maps DIR] [--csv FILE] [--json] [--tile [--overlap 0.5]]\n  ae-studio inspect --workspace DIR --run ID --calibrate [--map ssim|l2] [--score topk|max|mean] [--smooth SIGMA] [--topk PERCENT] [--percentile P] [--json]';
