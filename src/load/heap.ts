import v8 from 'node:v8';

let applied = false;

/**
 * Keeps the load generator's young generation at its starting size.
 *
 * Every request allocates a few short-lived objects, and a few of them (those of the ~50 requests in flight)
 * survive each scavenge. V8 counts those survivors and, past a threshold, doubles the young generation, up to
 * 32 MB more heap that is never given back: measured here, RSS jumped from 69 to 88 MB somewhere between
 * 400k and 450k requests. With the growth factor at 1 it stays at ~58 MB from 100k to 1M requests, at the
 * same req/s (the survivors, not the space, set the cost of a scavenge). The flag is read when V8 decides to
 * grow, so setting it at run time takes effect. Called by the CLI process that runs the engine, not by the
 * library: changing V8 flags is the application's decision.
 */
export function keepGeneratorHeapSmall(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  // Node 22 and newer (V8 12.4+) let the old generation grow further between major collections: the probe's
  // peak RSS at 30k requests was 105 MB on Node 24 and 109 MB on 26 (64 MB on 20), the old space holding
  // promoted garbage of finished requests. V8's --optimize-for-size, also read when the heap decides to grow,
  // keeps it at 85 and 86 MB with the same req/s and generator CPU per request (measured side by side, 2
  // runs each; bench/NOTES.md, "Memory on Node 24"). On Node 20 it added 3 MB, so it is not set there.
  if (Number(process.versions.node.split('.')[0]) >= 22) v8.setFlagsFromString('--optimize-for-size');
}
