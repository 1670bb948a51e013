// GraphQL executable documents: the project's interface over graphql-js (npm `graphql`).
//
// Only this file and schema.ts import graphql-js. A document arrives as text from traffic (hostile
// by assumption) and leaves as plain facts: its operations (type, name), a normalised signature
// per operation, alias counts, or a status saying why it was not parsed. Nothing here throws.
//
// Bounds, checked in this order (each refusal is a status, counted by the caller per exchange):
// - size: at most LIMITS.maxDocumentChars characters, else 'too_large' (not read further);
// - nesting: a linear pre-scan (strings, block strings and comments skipped) refuses documents whose
//   `{`/`(`/`[` nesting exceeds LIMITS.maxDepth before graphql-js's recursive-descent parser sees them
//   ('too_deep'), so no input can exhaust the stack;
// - tokens: graphql-js's own `maxTokens` parse option ('too_many_tokens');
// - aliases: counted per operation; more than LIMITS.maxAliases is reported (alias batching is an
//   abuse pattern) but the operation is still recognised.
//
// Normalisation (the key of an anonymous operation): the operation plus the fragments it uses,
// aliases dropped, literal values hidden (Int/Float → 0, String → "", lists → [], objects → {};
// booleans, enums and variables kept), fragments sorted by name, printed by graphql-js and
// whitespace-collapsed. Two clients sending the same anonymous query with other whitespace,
// comments, aliases or inline literal values share one key, so literal values cannot grow the
// inventory without bound (as Apollo's operation signatures).
import { createHash } from 'node:crypto';
import { Kind, parse, print, valueFromASTUntyped, visit } from 'graphql';
import type {
  ASTNode,
  DefinitionNode,
  DocumentNode,
  FragmentDefinitionNode,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';

export const LIMITS = {
  /** Characters of one document. Real client documents stay well below 16 KiB. */
  maxDocumentChars: 65_536,
  /** Nesting of `{`, `(` and `[` (selection sets, arguments, lists). */
  maxDepth: 64,
  /** Lexical tokens per document (graphql-js `maxTokens`). */
  maxTokens: 10_000,
  /** Aliased fields per operation before it counts as alias abuse. */
  maxAliases: 256,
  /** Parsed documents kept by DocumentCache, and their total characters. */
  cacheEntries: 1024,
  cacheChars: 8 * 1024 * 1024,
} as const;

export const OPERATION_TYPES = ['query', 'mutation', 'subscription'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

/** An operation (with the fragments it uses) as graphql-js parsed it; read by schema.ts only. */
export type OperationAst = DocumentNode & { readonly __operationAst: unique symbol };

export interface OperationInfo {
  type: OperationType;
  /** The operation's name, null for an anonymous operation. */
  name: string | null;
  /** Normalised text (see the file comment). */
  signature: string;
  /** First 12 hex digits of SHA-256 of `signature`. */
  signatureHash: string;
  /** Aliased fields in the operation and its fragments. */
  aliases: number;
  /** Root fields selected (fragments and inline fragments expanded), sorted, bounded. */
  rootFields: string[];
  /**
   * Literal argument values written into the document (variables left out), nested by field name:
   * `user(email: "a@b.c") { orders(first: 2) }` → {user: {email: "a@b.c", orders: {first: 2}}}; null
   * when there are none. Bounded (LIMITS.maxLiteralArgs values). Personal values may sit here: callers
   * only hand it to the PII scanner (masked + keyed hash), never store it.
   */
  literalArgs: Record<string, unknown> | null;
  /**
   * Response key → field name per selection level, fragments merged, when the operation aliases any
   * field (null otherwise): dealias() turns `{"u": {"mail": …}}` back into `{"user": {"email": …}}`.
   */
  aliasTree: AliasNode | null;
  readonly ast: OperationAst;
}

export type DocumentStatus = 'ok' | 'too_large' | 'too_deep' | 'too_many_tokens' | 'syntax' | 'no_operation';

export interface ParsedDocument {
  status: DocumentStatus;
  /** The executable operations, in document order (empty unless status is 'ok'). */
  operations: OperationInfo[];
}

/** Maximum nesting of `{`, `(`, `[` outside strings and comments (stops counting past `cap`). */
export function nestingDepth(text: string, cap: number): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x23) {
      // # comment to end of line
      while (i < n && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22) {
      if (text.startsWith('"""', i)) {
        // block string: ends at an unescaped """ (\""" is an escape)
        i += 3;
        while (i < n && !text.startsWith('"""', i)) i += text.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        i++;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 0x5c) i += 2;
          else if (d === 0x22 || d === 0x0a || d === 0x0d) break;
          else i++;
        }
      }
    } else if (c === 0x7b || c === 0x28 || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > cap) return max;
      }
    } else if (c === 0x7d || c === 0x29 || c === 0x5d) {
      if (depth > 0) depth--;
    }
  }
  return max;
}

const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** Fragments `op` uses, transitively (cycles and unknown names ignored), sorted by name. */
function usedFragments(op: OperationDefinitionNode, all: ReadonlyMap<string, FragmentDefinitionNode>) {
  const seen = new Set<string>();
  const stack: ASTNode[] = [op];
  while (stack.length > 0) {
    const node = stack.pop() as ASTNode;
    visit(node, {
      FragmentSpread(s) {
        const name = s.name.value;
        if (seen.has(name)) return;
        seen.add(name);
        const f = all.get(name);
        if (f !== undefined) stack.push(f);
      },
    });
  }
  return [...seen]
    .sort()
    .map((n) => all.get(n))
    .filter((f): f is FragmentDefinitionNode => f !== undefined);
}

/** The normalised form of a document (see the file comment). */
function signatureOf(doc: DocumentNode): string {
  const hidden = visit(doc, {
    Field(node) {
      return node.alias === undefined ? undefined : { ...node, alias: undefined };
    },
    IntValue(node) {
      return { ...node, value: '0' };
    },
    FloatValue(node) {
      return { kind: Kind.INT, value: '0', loc: node.loc };
    },
    StringValue(node) {
      return { ...node, value: '', block: false };
    },
    ListValue(node) {
      return { ...node, values: [] };
    },
    ObjectValue(node) {
      return { ...node, fields: [] };
    },
  });
  return print(hidden).replace(/\s+/g, ' ').trim();
}

/** One selection level: response key → the field it selects and that field's own level. */
export type AliasNode = Map<string, { field: string; sub: AliasNode | null }>;

const ALIAS_NODES_MAX = 2000;

function aliasTreeOf(op: OperationDefinitionNode, frags: ReadonlyMap<string, FragmentDefinitionNode>): AliasNode {
  let budget = ALIAS_NODES_MAX;
  const build = (set: SelectionSetNode, into: AliasNode, seen: ReadonlySet<string>): void => {
    for (const s of set.selections) {
      if (budget <= 0) return;
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = frags.get(s.name.value);
        if (f !== undefined && !seen.has(f.name.value)) build(f.selectionSet, into, new Set([...seen, f.name.value]));
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        build(s.selectionSet, into, seen);
      } else {
        budget--;
        const key = s.alias?.value ?? s.name.value;
        let e = into.get(key);
        if (e === undefined) into.set(key, (e = { field: s.name.value, sub: null }));
        if (s.selectionSet !== undefined) build(s.selectionSet, (e.sub ??= new Map()), seen);
      }
    }
  };
  const root: AliasNode = new Map();
  build(op.selectionSet, root, new Set());
  return root;
}

/**
 * `data` with aliased response keys renamed to their field names (aliasTree), so field shapes and PII
 * paths do not depend on the aliases a client picked. When two keys select the same field the first
 * takes its name and the others keep their alias. Returns a new value; `data` is not modified.
 */
export function dealias(data: unknown, node: AliasNode, depth = 0): unknown {
  if (depth > LIMITS.maxDepth || data === null || typeof data !== 'object') return data;
  if (Array.isArray(data)) return data.map((x) => dealias(x, node, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const e = node.get(k);
    const name = e === undefined || Object.prototype.hasOwnProperty.call(out, e.field) ? k : e.field;
    out[name] = e?.sub != null ? dealias(v, e.sub, depth + 1) : v;
  }
  return out;
}

const ROOT_FIELDS_MAX = 64;
const LITERAL_ARGS_MAX = 64;

/** literalArgs of an operation (see OperationInfo), fragments expanded once each. */
function literalArgsOf(
  op: OperationDefinitionNode,
  frags: ReadonlyMap<string, FragmentDefinitionNode>,
): Record<string, unknown> | null {
  const root: Record<string, unknown> = {};
  let n = 0;
  const seen = new Set<string>();
  const hasVariable = (v: ASTNode): boolean => {
    let found = false;
    visit(v, {
      Variable() {
        found = true;
      },
    });
    return found;
  };
  const walk = (set: SelectionSetNode, into: Record<string, unknown>): void => {
    for (const s of set.selections) {
      if (n >= LITERAL_ARGS_MAX) return;
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = frags.get(s.name.value);
        if (f !== undefined && !seen.has(f.name.value)) {
          seen.add(f.name.value);
          walk(f.selectionSet, into);
        }
        continue;
      }
      if (s.kind === Kind.INLINE_FRAGMENT) {
        walk(s.selectionSet, into);
        continue;
      }
      // By field name, as dealias() names the data; a second alias of a field keeps its alias.
      const key =
        s.alias === undefined || !Object.prototype.hasOwnProperty.call(into, s.name.value)
          ? s.name.value
          : s.alias.value;
      let child: Record<string, unknown> | null = null;
      const slot = (): Record<string, unknown> => {
        const prev = into[key];
        if (prev !== null && typeof prev === 'object' && !Array.isArray(prev)) return prev as Record<string, unknown>;
        const c: Record<string, unknown> = {};
        into[key] = c;
        return c;
      };
      for (const a of s.arguments ?? []) {
        if (a.value.kind === Kind.VARIABLE || hasVariable(a.value) || n >= LITERAL_ARGS_MAX) continue;
        child ??= slot();
        child[a.name.value] = valueFromASTUntyped(a.value);
        n++;
      }
      if (s.selectionSet !== undefined) {
        const before = n;
        const sub: Record<string, unknown> = child ?? {};
        walk(s.selectionSet, sub);
        if (child === null && n > before) into[key] = sub;
      }
    }
  };
  walk(op.selectionSet, root);
  return n === 0 ? null : root;
}

/** Root field names of an operation, through fragment spreads and inline fragments. */
function rootFieldsOf(op: OperationDefinitionNode, frags: ReadonlyMap<string, FragmentDefinitionNode>): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const walk = (sels: OperationDefinitionNode['selectionSet']['selections']): void => {
    for (const s of sels) {
      if (out.size >= ROOT_FIELDS_MAX) return;
      if (s.kind === Kind.FIELD) out.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet.selections);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = frags.get(s.name.value);
        if (f !== undefined) walk(f.selectionSet.selections);
      }
    }
  };
  walk(op.selectionSet.selections);
  return [...out].sort();
}

/** Parse a document within LIMITS. Never throws. */
export function parseDocument(text: string): ParsedDocument {
  if (text.length > LIMITS.maxDocumentChars) return { status: 'too_large', operations: [] };
  if (nestingDepth(text, LIMITS.maxDepth) > LIMITS.maxDepth) return { status: 'too_deep', operations: [] };
  let doc: DocumentNode;
  try {
    doc = parse(text, { noLocation: true, maxTokens: LIMITS.maxTokens });
  } catch (e) {
    // graphql-js 16 says "more that N tokens", 17 "more than N tokens".
    const tooMany = /contains more tha[nt] \d+ tokens/i.test((e as Error).message);
    return { status: tooMany ? 'too_many_tokens' : 'syntax', operations: [] };
  }
  try {
    return describe(doc);
  } catch {
    // graphql-js printing/visiting a document it parsed itself does not fail; keep the contract anyway.
    return { status: 'syntax', operations: [] };
  }
}

function describe(doc: DocumentNode): ParsedDocument {
  const frags = new Map<string, FragmentDefinitionNode>();
  const ops: OperationDefinitionNode[] = [];
  for (const d of doc.definitions as readonly DefinitionNode[]) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) {
      if (!frags.has(d.name.value)) frags.set(d.name.value, d);
    } else if (d.kind === Kind.OPERATION_DEFINITION) ops.push(d);
  }
  // A document of type definitions (SDL) or fragments only is not a request.
  if (ops.length === 0) return { status: 'no_operation', operations: [] };
  const operations = ops.map((op): OperationInfo => {
    const sub: DocumentNode = { kind: Kind.DOCUMENT, definitions: [op, ...usedFragments(op, frags)] };
    let aliases = 0;
    visit(sub, {
      Field(f) {
        if (f.alias !== undefined) aliases++;
      },
    });
    const signature = signatureOf(sub);
    return {
      type: op.operation as OperationType,
      name: op.name?.value ?? null,
      signature,
      signatureHash: sha12(signature),
      aliases,
      rootFields: rootFieldsOf(op, frags),
      literalArgs: literalArgsOf(op, frags),
      aliasTree: aliases > 0 ? aliasTreeOf(op, frags) : null,
      ast: sub as OperationAst,
    };
  });
  return { status: 'ok', operations };
}

/**
 * The operation a request executes (GraphQL over HTTP: `operationName` selects one; without it the
 * document must hold exactly one operation). 'ambiguous' and 'not_found' are requests a server refuses.
 */
export function selectOperation(
  doc: ParsedDocument,
  operationName: string | null,
): OperationInfo | 'ambiguous' | 'not_found' {
  if (operationName === null || operationName === '') {
    if (doc.operations.length === 1) return doc.operations[0] as OperationInfo;
    return doc.operations.length === 0 ? 'not_found' : 'ambiguous';
  }
  return doc.operations.find((o) => o.name === operationName) ?? 'not_found';
}

/**
 * Parsed documents by their text (a Map hashes the key string once per lookup), so each distinct
 * document is parsed once. Bounded by entries and characters; the oldest entries go first. A cache
 * miss only costs a parse: results never depend on what the cache holds.
 */
export class DocumentCache {
  private readonly map = new Map<string, ParsedDocument>();
  private chars = 0;
  hits = 0;
  misses = 0;
  constructor(
    private readonly maxEntries: number = LIMITS.cacheEntries,
    private readonly maxChars: number = LIMITS.cacheChars,
  ) {}

  get(text: string): ParsedDocument {
    const hit = this.map.get(text);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const parsed = parseDocument(text);
    if (text.length <= this.maxChars) {
      this.map.set(text, parsed);
      this.chars += text.length;
      while (this.map.size > this.maxEntries || this.chars > this.maxChars) {
        const oldest = this.map.keys().next().value as string;
        this.map.delete(oldest);
        this.chars -= oldest.length;
      }
    }
    return parsed;
  }

  get size(): number {
    return this.map.size;
  }
}

/** SHA-256 of a document text, lower-case hex (the Apollo persisted-query hash). */
export function persistedHashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
