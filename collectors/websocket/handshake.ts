// The opening handshake as the WebSocket layer needs it (RFC 6455 §4): is a 101 a switch to
// WebSocket, and which extension did the server accept (Sec-WebSocket-Extensions of the 101, the
// only one that counts: RFC 6455 §9.1, RFC 7692 §5). Pure functions of the header fields.
import type { HeaderPair } from '../../engine/contracts/exchange.js';

/** permessage-deflate as the server accepted it (RFC 7692 §7.1), per sending direction. */
export interface DeflateParams {
  /** The client's compressor resets its window per message (client_no_context_takeover). */
  clientNoContextTakeover: boolean;
  /** The server's compressor resets its window per message (server_no_context_takeover). */
  serverNoContextTakeover: boolean;
  /** LZ77 window of the client's compressor, 8..15 (client_max_window_bits; 15 when absent). */
  clientMaxWindowBits: number;
  /** LZ77 window of the server's compressor, 8..15 (server_max_window_bits; 15 when absent). */
  serverMaxWindowBits: number;
}

export interface Negotiated {
  /** permessage-deflate, or null when not negotiated. */
  deflate: DeflateParams | null;
  /** Some parameter of permessage-deflate was malformed (defaults used for it). */
  badParams: boolean;
  /** An extension other than permessage-deflate was accepted: RSV bits are its business. */
  unsupported: boolean;
}

function values(headers: readonly HeaderPair[], lower: string): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) if (k.length === lower.length && k.toLowerCase() === lower) out.push(v);
  return out;
}

function hasToken(headers: readonly HeaderPair[], lower: string, token: string): boolean {
  for (const v of values(headers, lower)) {
    for (const t of v.split(',')) if (t.trim().toLowerCase() === token) return true;
  }
  return false;
}

/**
 * The 101 answering `reqHeaders` switched to WebSocket: the response's Upgrade names websocket
 * (RFC 6455 §4.2.2 step 5, RFC 9110 §7.8), or it has no Upgrade field and the request asked for
 * websocket only.
 */
export function isWebSocketUpgrade(reqHeaders: readonly HeaderPair[], resHeaders: readonly HeaderPair[]): boolean {
  if (values(resHeaders, 'upgrade').length > 0) return hasToken(resHeaders, 'upgrade', 'websocket');
  const asked = values(reqHeaders, 'upgrade').flatMap((v) => v.split(',').map((t) => t.trim().toLowerCase()));
  return asked.length === 1 && asked[0] === 'websocket';
}

/**
 * The extensions of a 101 (Sec-WebSocket-Extensions, RFC 6455 §9.1 grammar: `name *( ";" param )`
 * separated by commas, parameter values possibly quoted). Only the first permessage-deflate offer
 * the server accepted counts (RFC 7692 §5: the server accepts at most one).
 */
export function negotiated(resHeaders: readonly HeaderPair[]): Negotiated {
  const out: Negotiated = { deflate: null, badParams: false, unsupported: false };
  for (const v of values(resHeaders, 'sec-websocket-extensions')) {
    for (const ext of v.split(',')) {
      const parts = ext.split(';');
      const name = (parts[0] ?? '').trim().toLowerCase();
      if (name === '') continue;
      if (name !== 'permessage-deflate' || out.deflate !== null) {
        if (name !== 'permessage-deflate') out.unsupported = true;
        continue;
      }
      const d: DeflateParams = {
        clientNoContextTakeover: false,
        serverNoContextTakeover: false,
        clientMaxWindowBits: 15,
        serverMaxWindowBits: 15,
      };
      for (let i = 1; i < parts.length; i++) {
        const p = parts[i] as string;
        const eq = p.indexOf('=');
        const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
        let val = eq < 0 ? null : p.slice(eq + 1).trim();
        if (val !== null && val.length >= 2 && val.startsWith('"') && val.endsWith('"')) val = val.slice(1, -1);
        switch (key) {
          case 'client_no_context_takeover':
            d.clientNoContextTakeover = true;
            if (val !== null) out.badParams = true;
            break;
          case 'server_no_context_takeover':
            d.serverNoContextTakeover = true;
            if (val !== null) out.badParams = true;
            break;
          case 'client_max_window_bits':
          case 'server_max_window_bits': {
            // In a response the value is required (RFC 7692 §7.1.2.2); 8..15.
            const n = val !== null && /^\d{1,2}$/.test(val) ? Number(val) : NaN;
            if (!(n >= 8 && n <= 15)) {
              out.badParams = true;
              break;
            }
            if (key === 'client_max_window_bits') d.clientMaxWindowBits = n;
            else d.serverMaxWindowBits = n;
            break;
          }
          case '':
            break;
          default:
            out.badParams = true;
        }
      }
      out.deflate = d;
    }
  }
  return out;
}
