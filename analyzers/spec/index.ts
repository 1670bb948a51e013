// Public surface of the spec layer.
export { loadSpec, parseSpec, normHost, SpecError } from './load.js';
export { createSpecIndex, opAppliesTo, splitTemplate } from './match.js';
export type { IndexedOp, OpMatch, SpecIndex } from './match.js';
export type { LoadedSpec, SpecOperation, SpecSecurityScheme } from './types.js';
