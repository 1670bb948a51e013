// The HTTP/1.x layer's anomaly and counter names live in the one catalogue
// (engine/contracts/catalogue.ts, section `http`); this module names the type the layer uses.
export type { HttpCounter as HttpAnomaly } from '../../engine/contracts/catalogue.js';
