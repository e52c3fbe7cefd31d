/** A mistake in how the command was called, exit code 2; printed with the usage unless `showUsage` is false (a bad config, an unknown dataset: the message says it all). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}
