// Public surface of GraphQL recognition (operations as endpoints, SDL checks, SDL reconstruction).
export { loadGraphqlSchema } from './schema.js';
export type { LoadedGraphqlSchema } from './schema.js';
export { toGraphqlSdl } from './sdl.js';
