// JSON bodies as analyzers see them: often cut short by the capture cap (Exchange.body.truncated).
//
// parseJsonPrefix() parses a complete document as JSON.parse does; for a document cut short it keeps
// every array element and object member that was complete before the cut and closes the open
// containers, so a 64 KiB prefix of a large list still yields its first N items with their real
// nested paths (instead of falling back to a free-text scan of the whole body, which is both slower
// and blind to field names). Work is one linear pass; nothing is allocated per character.
//
// Contract: returns undefined when the text is not JSON (or nothing complete precedes the cut).

/**
 * Parses `text`, or its longest complete prefix when `text` was cut short. `cut` says the caller
 * knows it was (Body.truncated): then the doomed full parse (an exception over up to the whole cap) is
 * skipped.
 */
export function parseJsonPrefix(text: string, cut = false): unknown {
  if (!cut) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // fall through: maybe a cut document
    }
  }
  const repaired = repairCut(text);
  if (repaired === null) return undefined;
  try {
    return JSON.parse(repaired) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The text up to the last separator (',') that follows a complete element, plus the closers of the
 * containers open there. Null when no such point exists or the text does not start a container.
 */
export function repairCut(text: string): string | null {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  const first = text.charCodeAt(i);
  if (first !== 0x7b && first !== 0x5b) return null; // { or [
  const stack: number[] = [];
  let inString = false;
  let cutAt = -1;
  let cutClosers = '';
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    switch (c) {
      case 0x22:
        inString = true;
        break;
      case 0x7b:
        stack.push(0x7d);
        break; // { → }
      case 0x5b:
        stack.push(0x5d);
        break; // [ → ]
      case 0x7d:
      case 0x5d:
        if (stack.pop() !== c) return null;
        if (stack.length === 0) return text.slice(0, i + 1); // complete document (trailing garbage cut)
        break;
      case 0x2c: // , after a complete element at this depth
        if (stack.length > 0) {
          cutAt = i;
          cutClosers = '';
          for (let k = stack.length - 1; k >= 0; k--) cutClosers += String.fromCharCode(stack[k] as number);
        }
        break;
      default:
        break;
    }
  }
  if (cutAt < 0) return null;
  return text.slice(0, cutAt) + cutClosers;
}

const parsedBodies = new WeakMap<object, unknown>();
const NOT_JSON = Symbol('not json');

/**
 * The JSON of an exchange body, parsed once per body object and shared by every analyzer that asks
 * (endpoint field shapes, PII): a WeakMap keyed by the Body, so nothing outlives the exchange.
 */
export function bodyJson(body: { data: string; truncated: boolean }): unknown {
  const hit = parsedBodies.get(body);
  if (hit !== undefined) return hit === NOT_JSON ? undefined : hit;
  const v = parseJsonPrefix(body.data, body.truncated);
  parsedBodies.set(body, v === undefined ? NOT_JSON : v);
  return v;
}
