// The HTTP/2 cleartext and gRPC layers' anomaly and counter names live in the one catalogue
// (engine/contracts/catalogue.ts, sections `h2`); this module names the types the layer uses.
export type { H2Anomaly, H2Counter } from '../../engine/contracts/catalogue.js';
