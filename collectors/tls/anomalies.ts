// The TLS layer's anomaly and counter names live in the one catalogue (engine/contracts/catalogue.ts,
// sections `tls`); this module names the type the layer uses.
export type { TlsAnomaly } from '../../engine/contracts/catalogue.js';
