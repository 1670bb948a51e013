// A GraphQL schema (SDL, `--graphql-schema schema.graphql`) and what an operation uses of it.
//
// A loaded schema is plain data ({name, sdl}) so it crosses worker threads like a loaded OpenAPI
// spec; each thread builds the graphql-js schema once (compiled()). checkOperation() answers, per
// operation (computed once per distinct document and cached with it by the caller):
// - valid: the operation (with its fragments) passes graphql-js validation against the schema;
// - unknown: schema coordinates the operation uses that the schema lacks (`Query.adminUsers`,
//   `User.ssn`, `Query.user(debug:)`, a root type the schema does not define: `Mutation`);
// - deprecated: coordinates used that the schema marks @deprecated (fields, arguments, enum values).
// Coordinates follow the GraphQL schema-coordinates RFC (`Type.field`, `Type.field(arg:)`, `Enum.VALUE`).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  buildSchema,
  getNamedType,
  GraphQLEnumType,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type GraphQLSchema,
} from 'graphql';
import type { OperationAst } from './document.js';

export interface LoadedGraphqlSchema {
  /** File name, for evidence. */
  name: string;
  sdl: string;
}

export interface OperationCheck {
  valid: boolean;
  unknown: string[];
  deprecated: string[];
}

/** Bound on the coordinates kept per operation and list. */
const MAX_COORDS = 64;

/** Read and check an SDL file; throws with a readable message (CLI start-up: fail fast). */
export function loadGraphqlSchema(path: string): LoadedGraphqlSchema {
  const sdl = readFileSync(path, 'utf8');
  buildSchema(sdl); // throws GraphQLError with line and column on a broken schema
  return { name: basename(path), sdl };
}

const compiledCache = new Map<string, GraphQLSchema>();

/** The graphql-js schema of a loaded SDL, built once per thread. */
export function compiled(s: LoadedGraphqlSchema): GraphQLSchema {
  let c = compiledCache.get(s.sdl);
  if (c === undefined) {
    c = buildSchema(s.sdl, { assumeValidSDL: false });
    compiledCache.set(s.sdl, c);
  }
  return c;
}

const cap = (set: Set<string>): string[] => [...set].sort().slice(0, MAX_COORDS);

/** What `ast` uses of `schema` (see the file comment). Never throws. */
export function checkOperation(schema: GraphQLSchema, ast: OperationAst): OperationCheck {
  const unknown = new Set<string>();
  const deprecated = new Set<string>();
  let valid: boolean;
  try {
    valid = validate(schema, ast, undefined, { maxErrors: 50 }).length === 0;
    const info = new TypeInfo(schema);
    visit(
      ast,
      visitWithTypeInfo(info, {
        OperationDefinition(op) {
          const root = schema.getRootType(op.operation);
          if (root === undefined || root === null) {
            unknown.add(op.operation === 'query' ? 'Query' : op.operation === 'mutation' ? 'Mutation' : 'Subscription');
          }
        },
        Field(f) {
          const parent = info.getParentType();
          if (parent === null || parent === undefined) return;
          const def = info.getFieldDef();
          const name = f.name.value;
          if (name.startsWith('__')) return; // introspection meta-fields
          if (def === null || def === undefined) {
            unknown.add(`${parent.name}.${name}`);
            return;
          }
          if (def.deprecationReason !== null && def.deprecationReason !== undefined)
            deprecated.add(`${parent.name}.${name}`);
        },
        Argument(a) {
          const parent = info.getParentType();
          const def = info.getFieldDef();
          if (parent === null || parent === undefined || def === null || def === undefined) return;
          const arg = info.getArgument();
          const coord = `${parent.name}.${def.name}(${a.name.value}:)`;
          if (arg === null || arg === undefined) unknown.add(coord);
          else if (arg.deprecationReason !== null && arg.deprecationReason !== undefined) deprecated.add(coord);
        },
        EnumValue(v) {
          const t = info.getInputType();
          const named = t === null ? null : getNamedType(t);
          if (!(named instanceof GraphQLEnumType)) return;
          const ev = named.getValue(v.value);
          const coord = `${named.name}.${v.value}`;
          if (ev === undefined || ev === null) unknown.add(coord);
          else if (ev.deprecationReason !== null && ev.deprecationReason !== undefined) deprecated.add(coord);
        },
        FragmentDefinition(fd) {
          if (schema.getType(fd.typeCondition.name.value) === undefined) unknown.add(fd.typeCondition.name.value);
        },
        InlineFragment(fr) {
          if (fr.typeCondition !== undefined && schema.getType(fr.typeCondition.name.value) === undefined)
            unknown.add(fr.typeCondition.name.value);
        },
      }),
    );
  } catch {
    return { valid: false, unknown: cap(unknown), deprecated: cap(deprecated) };
  }
  return { valid, unknown: cap(unknown), deprecated: cap(deprecated) };
}

/**
 * An operation against several schemas (`--graphql-schema` repeated): valid when one schema validates
 * it; unknown coordinates are those no schema has; deprecated those any schema deprecates (of a
 * schema that knows them).
 */
export function checkAgainst(schemas: readonly LoadedGraphqlSchema[], ast: OperationAst): OperationCheck | null {
  if (schemas.length === 0) return null;
  let valid = false;
  let unknown: Set<string> | undefined;
  const deprecated = new Set<string>();
  for (const s of schemas) {
    let c: OperationCheck;
    try {
      c = checkOperation(compiled(s), ast);
    } catch {
      continue;
    }
    valid ||= c.valid;
    const u = new Set(c.unknown);
    const prev: Set<string> | undefined = unknown;
    unknown = prev === undefined ? u : new Set([...prev].filter((x) => u.has(x)));
    for (const d of c.deprecated) deprecated.add(d);
  }
  return { valid, unknown: cap(unknown ?? new Set()), deprecated: cap(deprecated) };
}
