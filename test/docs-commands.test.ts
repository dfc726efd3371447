/**
 * Docs that run: every `cluster-demo` command line in README.md and docs/ (a `$ …` line of a code block, or an
 * inline code span) is parsed by the CLI's own program, with every action replaced by a no-op, so nothing starts
 * and no load is sent. An unknown flag, a bad value or a missing unit fails here, not in a reader's terminal.
 */
import { Command, CommanderError } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProgram, SUBCOMMANDS } from '../src/commands/program.js';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const files = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Splits a shell line into words (single and double quotes), up to a comment, pipe, redirect or `&&`. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else word = (word ?? '') + ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
      continue;
    }
    if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    if ((ch === '#' && word === null) || ch === '|' || ch === '>' || ch === ';' || (ch === '&' && line[i + 1] === '&')) break;
    word = (word ?? '') + ch;
  }
  if (word !== null) words.push(word);
  return words;
}

interface DocCommand {
  where: string;
  line: string;
  args: string[];
}

/** The arguments after `cluster-demo` in `text`, when it runs one of our subcommands (else null). */
function commandIn(text: string): string[] | null {
  const words = shellWords(text);
  const at = words.findIndex((w) => w === 'cluster-demo' || w.endsWith('/cluster-demo.js'));
  if (at === -1) return null;
  // Before it: env assignments, npx, node. A line of output ("cluster-demo probe → …") is not a command.
  if (!words.slice(0, at).every((w) => /^[A-Z_]+=/.test(w) || w === 'npx' || w === 'node')) return null;
  const args = words.slice(at + 1);
  if (args[0] === undefined || !(SUBCOMMANDS.includes(args[0]) || args[0].startsWith('-'))) return null;
  return args;
}

function docCommands(): DocCommand[] {
  const found: DocCommand[] = [];
  for (const file of files) {
    let inBlock = false;
    readFileSync(path.join(root, file), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const where = `${file}:${i + 1}`;
        if (text.trimStart().startsWith('```')) {
          inBlock = !inBlock;
          return;
        }
        if (inBlock) {
          // A prompt line, or a bare command line; "cluster-demo probe → …" is the output's first line.
          // Each command of `a && b` on its own.
          for (const line of text.replace(/^\s*\$ /, '').split(/&&|;/)) {
            const args = line.includes('→') ? null : commandIn(line);
            if (args) found.push({ where, line, args });
          }
          return;
        }
        for (const span of text.matchAll(/`([^`]+)`/g)) {
          const args = /^(npx )?cluster-demo /.test(span[1]!) ? commandIn(span[1]!) : null;
          if (args) found.push({ where, line: span[1]!, args });
        }
      });
  }
  return found;
}

/** A placeholder (`<file>`, `…`) marks a pattern to fill in, not a line to run. */
const isPattern = (c: DocCommand) => c.args.some((a) => a.includes('<') || a.includes('…'));

function parse(args: string[]): string | null {
  const program = makeProgram();
  const silence = (command: Command) => command.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  silence(program);
  for (const command of program.commands) silence(command).action(() => {});
  try {
    program.parse(['node', 'cluster-demo', ...args]);
    return null;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return null; // --help, --version
    return (err as Error).message;
  }
}

const help = (name: string) => makeProgram().commands.find((c) => c.name() === name)!.helpInformation();

describe('every cluster-demo command line in README.md and docs/', () => {
  const commands = docCommands();

  it('finds the command lines (README and each command page)', () => {
    expect(commands.length).toBeGreaterThanOrEqual(40);
    for (const page of ['README.md', 'docs/serve.md', 'docs/probe.md', 'docs/compare.md', 'docs/browser.md', 'docs/fleet.md']) {
      expect(commands.some((c) => c.where.startsWith(`${page}:`)), page).toBe(true);
    }
  });

  it('parses with the CLI\'s own options (no unknown flag, no bad value)', () => {
    const failures = commands.filter((c) => !isPattern(c)).flatMap((c) => {
      const error = parse(c.args);
      return error ? [`${c.where}: cluster-demo ${c.args.join(' ')}\n    ${error}`] : [];
    });
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('--help prints each duration default with its unit, as it must be typed', () => {
    expect(help('probe')).toMatch(/--timeout <time> +per-request timeout \(default: 10s\)/);
    expect(help('compare')).toMatch(/--timeout <time> +per-request timeout \(default: 30s\)/);
    expect(help('browser')).toMatch(/--timeout <time> +per scenario \(default: 1m\)/);
    expect(help('fleet')).toMatch(/--timeout <time> +per-request timeout \(default: 10s\)/);
    for (const name of SUBCOMMANDS) expect(help(name), name).not.toMatch(/<(time|interval)>[^\n]*\(default: \d+\)/);
  });

  it('--help shows each default once: never "(default: false)" after a switch, never a second "(default" after one named in words', () => {
    const program = makeProgram();
    for (const name of SUBCOMMANDS) {
      const command = program.commands.find((c) => c.name() === name)!;
      const helper = command.createHelp();
      for (const option of command.options) {
        const text = helper.optionDescription(option);
        expect(text, `${name} ${option.long}`).not.toMatch(/\(default: false\)/);
        // What commander appended after the description: no default when the description names it already.
        if (/\(default[: ]/.test(option.description)) expect(text.slice(option.description.length), `${name} ${option.long}: ${text}`).not.toMatch(/default/);
      }
    }
    expect(help('probe')).toMatch(/--n <n> +n for \/api\/:n \(default: 12000000, about 10 ms of CPU/);
    expect(help('probe')).toMatch(/-k, --keep-alive +reuse keep-alive connections \(default: a new\s+connection\s+per\s+request\)\n/);
  });

  it('shellWords reads quotes, and stops at a comment, a pipe or a redirect', () => {
    expect(shellWords(`cluster-demo serve --name 'web 1' --log json | jq .type`)).toEqual(['cluster-demo', 'serve', '--name', 'web 1', '--log', 'json']);
    expect(shellWords('npx cluster-demo probe --json > probe.json   # keep it')).toEqual(['npx', 'cluster-demo', 'probe', '--json']);
    expect(commandIn('cluster-demo fleet: 3 hosts behind nginx')).toBeNull();
    expect(parse(['probe', '--no-such-flag'])).toMatch(/unknown option '--no-such-flag'/);
    expect(parse(['probe', '--timeout', '10'])).toMatch(/Needs a unit/);
  });
});
