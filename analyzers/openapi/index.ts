// Public surface of OpenAPI reconstruction.
export { toOpenApi } from './reconstruct.js';
export type { OpenApiExtra } from './reconstruct.js';
