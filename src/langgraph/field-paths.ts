// The texts of an item that get embedded, picked by the field paths LangGraph's stores
// take (`index: ["title", "chapters[*].content"]`):
//   $            the whole value, as indented JSON
//   a.b          a nested field
//   a[0], a[-1]  one element of an array (negative from the end)
//   a[*], a.*    every element of an array, or every value of an object
//   {a, b.c}     several fields at this level
// A string, number or boolean gives its text; an object or array its indented JSON;
// null and missing fields give nothing.
import { invalidArgument } from '../api/errors.js';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'every' }
  | { kind: 'fields'; paths: Step[][] };

/** Splits `a.b[0].{c, d.e}` into steps; a malformed path is refused (INVALID_ARGUMENT). */
export function parseFieldPath(path: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw invalidArgument(`field path "${path}" ${why}`);
  };
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail(`has an unclosed '['`);
      const inside = path.slice(i + 1, close).trim();
      if (inside === '*') steps.push({ kind: 'every' });
      else if (/^-?\d+$/.test(inside)) steps.push({ kind: 'index', index: Number(inside) });
      else fail(`has "[${inside}]"; use [*], [n] or [-n]`);
      i = close + 1;
    } else if (c === '{') {
      const close = path.indexOf('}', i);
      if (close < 0) fail(`has an unclosed '{'`);
      const fields = path
        .slice(i + 1, close)
        .split(',')
        .map((f) => f.trim());
      if (fields.some((f) => f.length === 0)) fail('names an empty field inside {}');
      steps.push({ kind: 'fields', paths: fields.map(parseFieldPath) });
      i = close + 1;
    } else {
      let end = i;
      while (end < path.length && !'.[{'.includes(path[end]!)) end++;
      const name = path.slice(i, end);
      steps.push(name === '*' ? { kind: 'every' } : { kind: 'field', name });
      i = end;
    }
  }
  return steps;
}

function leafTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (value !== null && typeof value === 'object') return [JSON.stringify(value, null, 2)];
  return [];
}

function walk(value: unknown, steps: readonly Step[], at: number, out: string[]): void {
  if (at === steps.length) {
    for (const text of leafTexts(value)) out.push(text);
    return;
  }
  const step = steps[at]!;
  if (value === null || typeof value !== 'object') return;
  switch (step.kind) {
    case 'field':
      if (!Array.isArray(value) && Object.hasOwn(value, step.name)) walk((value as Record<string, unknown>)[step.name], steps, at + 1, out);
      return;
    case 'index': {
      if (!Array.isArray(value)) return;
      const i = step.index < 0 ? value.length + step.index : step.index;
      if (i >= 0 && i < value.length) walk(value[i], steps, at + 1, out);
      return;
    }
    case 'every':
      for (const item of Array.isArray(value) ? value : Object.values(value)) walk(item, steps, at + 1, out);
      return;
    case 'fields':
      for (const path of step.paths) walk(value, [...path, ...steps.slice(at + 1)], 0, out);
      return;
  }
}

/** The texts at a field path of a value; `$` is the whole value. */
export function textsAt(value: unknown, path: string): string[] {
  if (path === '$' || path === '') return [JSON.stringify(value, null, 2)];
  const out: string[] = [];
  walk(value, parseFieldPath(path), 0, out);
  return out;
}
