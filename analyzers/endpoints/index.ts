// Public surface of endpoint discovery.
export { loadOverrides, parseOverrides, applyOverrides, OverridesFile } from './overrides.js';
export type { Overrides, OverrideRule } from './overrides.js';
export { PathTree, templateString, paramName, TREE_LIMITS } from './tree.js';
export type { TemplateSeg, LeafDecision, RawNode } from './tree.js';
export { classifySegment, isVersionSegment, categoryOf, singular, paramNameFromParent } from './classify.js';
export type { ValueClass } from './classify.js';
