/** The contract of one `medgw` sub-command module. */
export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface CommandModule {
  /** Runs the command with its own arguments; resolves to the process exit code. */
  run(args: string[], io: CommandIo): Promise<number>;
}
