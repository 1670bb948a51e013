// The PII analyzer's public surface: the scanner and the field aggregator (contract in types.ts),
// plus the pure pieces the tests pin down (detectors, validators, key tokeniser, secret rules).
export type { PiiFieldAggregator, PiiFieldResult, PiiHit, PiiScanner, PiiScanStats } from './types.js';
export { createPiiScanner, SCAN_LIMITS } from './scanner.js';
export type { ScannerOptions } from './scanner.js';
export { MAX_SHAPES, SAMPLING, shapeCode } from './sampling.js';
export type { SamplingOptions } from './sampling.js';
export { createPiiFieldAggregator, MIN_DISTINCT, MAX_HASHES } from './aggregate.js';
export { detectSecretsOnly, detectText, detectValue, VALUE_DETECTORS } from './detect.js';
export type { Candidate, DetectOptions, ValueContext, ValueDetector } from './detect.js';
export { identifierShape } from './ids.js';
export type { IdentifierShape } from './ids.js';
export { keyEvidence, tokenizeKey, NEGATIVE_HINTS, POSITIVE_HINTS } from './keys.js';
export type { KeyEvidence } from './keys.js';
export { SECRET_RULES, scanSecrets, genericSecretValue, isPlaceholder } from './secrets.js';
export type { SecretRule, SecretMatch } from './secrets.js';
export { decodeJwt } from './jwt.js';
export { hmacHex, maskValue, normalizeValue, shapeOf } from './redact.js';
export * as validators from './validators.js';
