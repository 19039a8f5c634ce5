import { badField } from './errors.js';

// JSON bodies are parsed here rather than by Fastify's default parser so that duplicate keys, which JSON.parse
// silently resolves to the last one, are refused with the path of the repeated key, as are prototype keys.

const WS = new Set([' ', '\t', '\n', '\r']);

export function parseJsonStrict(text: string): unknown {
  if (text.trim() === '') throw badField('', 'the body is empty: send a JSON document');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badField('', `is not valid JSON: ${(err as Error).message}`);
  }
  const problem = duplicateKey(text);
  if (problem) throw badField(problem.path, problem.message);
  return value;
}

type Frame = { keys: Set<string> | null; path: string; index: number; pendingKey?: string };

function duplicateKey(text: string): { path: string; message: string } | null {
  const stack: Frame[] = [];
  const child = (f: Frame | undefined): string => {
    if (!f) return '';
    if (f.keys === null) return `${f.path}[${f.index}]`;
    const k = f.pendingKey ?? '';
    return /^[A-Za-z_$][\w$-]*$/.test(k) ? (f.path ? `${f.path}.${k}` : k) : `${f.path}[${JSON.stringify(k)}]`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const raw = text.slice(i, j + 1);
      let k = j + 1;
      while (k < text.length && WS.has(text[k] ?? '')) k++;
      const top = stack[stack.length - 1];
      if (text[k] === ':' && top && top.keys !== null) {
        const key = JSON.parse(raw) as string;
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
          top.pendingKey = key;
          return { path: child(top), message: `"${key}" is not allowed as a field name` };
        }
        if (top.keys.has(key)) {
          top.pendingKey = key;
          return { path: child(top), message: 'is given twice in the same object' };
        }
        top.keys.add(key);
        top.pendingKey = key;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const parent = stack[stack.length - 1];
      stack.push({ keys: c === '{' ? new Set() : null, path: child(parent), index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top && top.keys === null) top.index += 1;
    }
  }
  return null;
}
