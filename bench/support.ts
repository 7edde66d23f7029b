import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs `body` `count` times (awaiting each) and returns operations per second. */
export async function rate(count: number, body: (index: number) => unknown): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < count; index++) await body(index);
  return (count / (performance.now() - started)) * 1000;
}

/**
 * Ops per second of two bodies measured side by side: blocks of `block` calls of one, then of the
 * other (alternating which goes first), each block timed, until each has run `count` times. Both
 * see the same background load, caches and JIT state, so their ratio is fair on a busy machine.
 */
export async function rates(
  count: number,
  block: number,
  ours: (index: number) => unknown,
  bare: (index: number) => unknown,
): Promise<{ ours: number; bare: number }> {
  let oursMs = 0;
  let bareMs = 0;
  for (let start = 0, round = 0; start < count; start += block, round++) {
    const end = Math.min(count, start + block);
    for (const side of round % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours']) {
      const body = side === 'ours' ? ours : bare;
      const began = performance.now();
      for (let index = start; index < end; index++) await body(index);
      const ms = performance.now() - began;
      if (side === 'ours') oursMs += ms;
      else bareMs += ms;
    }
  }
  return { ours: (count / oursMs) * 1000, bare: (count / bareMs) * 1000 };
}

/** Median and 99th percentile of `count` timed runs of `body`, in microseconds. */
export async function latency(count: number, body: () => unknown): Promise<{ median: number; p99: number }> {
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await body();
    samples.push((performance.now() - started) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], p99: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))] };
}

export function payload(bytes = 200): Buffer {
  return Buffer.from(JSON.stringify({ what: 'x'.repeat(Math.max(bytes - 12, 0)) }));
}

export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function ratio(ours: number, bare: number): string {
  return `${((ours / bare) * 100).toFixed(0)}%`;
}

/** Prints rows as an aligned table. */
export function table(header: string[], rows: string[][]): void {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function temporaryDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'es-bench-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function withSchema<T>(body: (schema: string) => Promise<T>): Promise<T> {
  const schema = await createSchema();
  try {
    return await body(schema);
  } finally {
    await dropSchema(schema);
  }
}

/** A new schema of its own for a benchmark run (drop it with dropSchema). */
export async function createSchema(): Promise<string> {
  const schema = `bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await asAdmin((admin) => admin.query(`CREATE SCHEMA "${schema}"`));
  return schema;
}

export async function dropSchema(schema: string): Promise<void> {
  await asAdmin((admin) => admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

async function asAdmin(body: (admin: Client) => Promise<unknown>): Promise<void> {
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await body(admin);
  } finally {
    await admin.end();
  }
}
