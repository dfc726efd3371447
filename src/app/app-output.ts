/**
 * A user's app writes to its own stdout and stderr; under `serve --app` every worker would print the same start-up
 * error once per worker and once per respawn. So a worker's stderr is held until it listens: then it flows. A
 * worker that dies first has its held text shown once (the same text again from the next worker or respawn is
 * not repeated); one that could not listen (a busy port: our one line says it) has it dropped.
 * stdout flows at once, to ours (serve) or to our stderr (the measuring commands, whose stdout is a report).
 */
import type { Readable, Writable } from 'node:stream';

export type AppStdout = 'stdout' | 'stderr';

export class AppOutput {
  private readonly shown = new Set<string>();

  constructor(
    private readonly stdout: AppStdout = 'stdout',
    private readonly out: Writable = process.stdout,
    private readonly err: Writable = process.stderr,
  ) {}

  /** Wires one worker's pipes; the gate says when its stderr flows, and what becomes of what it held. */
  attach(stdout: Readable | null, stderr: Readable | null): StderrGate {
    stdout?.on('data', (chunk: Buffer) => (this.stdout === 'stdout' ? this.out : this.err).write(chunk));
    const gate = new StderrGate(this.err, this.shown);
    stderr?.on('data', (chunk: Buffer) => gate.write(chunk));
    return gate;
  }
}

export class StderrGate {
  private held: Buffer[] | null = [];
  /** Judged (shown once or dropped): what still comes is of a worker already accounted for, and goes nowhere. */
  private closed = false;

  constructor(
    private readonly err: Writable,
    private readonly shown: Set<string>,
  ) {}

  write(chunk: Buffer): void {
    if (this.closed) return;
    if (this.held) this.held.push(chunk);
    else this.err.write(chunk);
  }

  /** It listens: what it held, then everything, goes out. */
  open(): void {
    if (!this.held) return;
    const text = Buffer.concat(this.held);
    this.held = null;
    if (text.length > 0) this.err.write(text);
  }

  /** What it has written and we hold (nothing once it flows). */
  heldText(): string {
    return this.held ? Buffer.concat(this.held).toString() : '';
  }

  /** It died before listening: its text, unless the same text was shown already. Returns whether it was new. */
  showOnce(): boolean {
    if (!this.held) return false;
    const text = Buffer.concat(this.held).toString();
    this.held = null;
    this.closed = true;
    if (text.trim() === '' || this.shown.has(text)) return false;
    this.shown.add(text);
    this.err.write(text.endsWith('\n') ? text : `${text}\n`);
    return true;
  }

  /** Our own line says what went wrong: what it held is dropped. */
  drop(): void {
    this.held = null;
    this.closed = true;
  }
}
