// Plain types for loaded API descriptions (OpenAPI 3.0/3.1, Swagger 2.0), after validation at the
// boundary (load.ts). Everything downstream (endpoint seeding, spec diff) reads only these.

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** OpenAPI 3.2 adds the QUERY method (draft-ietf-httpbis-safe-method-w-body) as a path item field. */
export const HTTP_METHODS_32 = [...HTTP_METHODS, 'query'] as const;

/** Something the loader skipped or coerced: where (JSON pointer, prefixed by the file for other files) and what. */
export interface SpecWarning {
  pointer: string;
  message: string;
}

export interface SpecOperation {
  /** Upper-case HTTP method. */
  method: string;
  /** The path key as written in the spec, relative to the base path (e.g. /users/{id}). */
  path: string;
  /**
   * Full request paths the operation answers on: every base path (server URL path or Swagger
   * basePath) joined with `path`; always at least one entry. Templates keep `{name}` expressions, whole
   * segments or inside one (`{Sid}.json`, `v{major}`, `{name}:cancel`).
   */
  fullPaths: string[];
  /**
   * Version-only base paths among the operation's bases (every segment a version like v1, v1.41,
   * 2.0 — not dates, not mount points such as /api/v3), e.g. ['/v1.41']. Empty for most specs.
   */
  versionBases: string[];
  /**
   * The operation's path with a version-only base left out (e.g. /_ping for /v1.41/_ping), for APIs
   * that also answer unversioned paths as "the current version" (Docker Engine). Conditional: the
   * analysis uses them on a host only once that host has served one of `versionBases` (load.ts,
   * "Optional version base"). Empty when no base qualifies, when the path is `/`, or when its first
   * segment is a parameter (a root parameter would swallow every other path of the host).
   */
  versionlessPaths: string[];
  /**
   * Lower-case hosts (port kept, default ports 80/443 removed) the operation is served on; empty = any
   * host. An entry may hold server variables without enum (`{region}.api.example.com`): a host pattern.
   */
  hosts: string[];
  /** Path parameter names in path order. */
  pathParams: string[];
  /** Query parameter names, sorted. */
  queryParams: string[];
  deprecated: boolean;
  /**
   * Effective security requirement (operation's, else the document's): alternatives, each a sorted
   * list of scheme names. `[]` means no requirement declared; `[[]]` means explicitly anonymous.
   */
  security: string[][];
  operationId: string | null;
  /** What the operation declares about messages (parameters, bodies, responses), for conformance. */
  contract: SpecContract;
}

/**
 * A schema as a reference into LoadedSpec.documents: `<label>#<JSON pointer>` (label '' = the main
 * document, else a referenced file's path relative to it), e.g. `#/paths/~1pets/get/responses/200/
 * content/application~1json/schema`. The node is the schema as written (its own `$ref`s unresolved).
 */
export type SchemaRef = string;

export interface SpecParameter {
  name: string;
  /** Lower case: query, header, path, cookie, querystring (3.x); query, header, path, formdata, body (2.0). */
  in: string;
}

export interface SpecMedia {
  /** Lower-case media type as declared (`application/json`, `application/*`, `*\/*`). */
  mediaType: string;
  schema: SchemaRef | null;
}

export interface SpecResponse {
  /** As declared: `200`, `2XX` (upper-cased range), or `default`. */
  status: string;
  /** Declared content; empty when the response declares no body. */
  media: SpecMedia[];
}

export interface SpecContract {
  /** Effective parameters (path-item ones overridden by the operation's), sorted by (in, name). */
  parameters: SpecParameter[];
  /** Declared request body media (2.0: the body parameter per `consumes`, or form media); null: none declared. */
  requestBody: SpecMedia[] | null;
  /** Declared responses, sorted by status; null when the operation declares none (nothing to compare). */
  responses: SpecResponse[] | null;
}

export interface SpecSecurityScheme {
  /** apiKey | http | oauth2 | openIdConnect | basic (Swagger 2) | mutualTLS. */
  type: string;
  /** For http: basic, bearer, ... */
  scheme: string | null;
  /** For apiKey: header, query or cookie. */
  in: string | null;
  /** For apiKey: the header/query/cookie name. */
  name: string | null;
}

export interface LoadedSpec {
  /** Display name (file base name by default); also the deterministic tie-breaker between specs. */
  name: string;
  format: 'swagger-2.0' | 'openapi-3.0' | 'openapi-3.1' | 'openapi-3.2';
  title: string;
  apiVersion: string;
  /** Hosts from the document's servers / Swagger host; empty = the spec applies to any host. */
  hosts: string[];
  /** Base paths from servers / basePath ('' for root). */
  basePaths: string[];
  /** Path keys in the document (including path items without operations). */
  pathCount: number;
  /** Sorted by (path, method). */
  operations: SpecOperation[];
  securitySchemes: Record<string, SpecSecurityScheme>;
  /** What the loader skipped or coerced, in document order, at most MAX_SPEC_WARNINGS (load.ts). */
  warnings: SpecWarning[];
  /** All warnings, including those beyond the cap. */
  warningCount: number;
  /**
   * The parsed documents by label ('' = the main document, then every referenced file read), for the
   * schemas operations point at (SchemaRef). Plain data: it crosses to worker threads with the spec.
   */
  documents: Record<string, unknown>;
  /** True when the main document was pruned before parsing (large YAML, parse.ts): it holds no schemas. */
  schemasPruned: boolean;
  /**
   * The text (and directory) of a pruned spec, so that conformance can parse it whole when traffic
   * first reaches one of its operations (conformance/plugin.ts); null when not pruned.
   */
  source: { text: string; dir: string | null } | null;
}
