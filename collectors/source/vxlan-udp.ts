// Live traffic-mirror target: VXLAN datagrams on a UDP socket (AWS VPC Traffic Mirroring, GCP
// Packet Mirroring, a vSwitch ERSPAN-to-VXLAN bridge...). The kernel has already removed the outer
// IP/UDP headers, so each datagram is handed over as LINKTYPE_VXLAN_PAYLOAD.
//
// Ownership: the Buffer passed to onFrame belongs to this datagram only (dgram allocates one per
// message); the sink may keep a reference, but by the FrameSink contract it must not rely on it.
// Time: this is a live capture, so arrival time IS packet time. It is the monotonic clock anchored
// once to the wall clock (performance.timeOrigin + performance.now()), which cannot go backwards
// when NTP steps the system clock and costs no allocation per datagram.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Counters } from '../../engine/contracts/counters.js';
import { LINKTYPE } from './types.js';
import type { FrameSink } from './types.js';

export interface VxlanReceiverOptions {
  /** Address to bind, e.g. '0.0.0.0' or '::'. */
  host: string;
  /** UDP port (4789 for VXLAN); 0 picks a free port (tests). */
  port: number;
  /** SO_RCVBUF wanted. Linux caps it at net.core.rmem_max (and reports double); a cap is counted. */
  recvBufferBytes: number;
}

export interface VxlanReceiver {
  start(): Promise<void>;
  stop(): Promise<void>;
  address(): { address: string; port: number };
  /**
   * Datagrams the kernel dropped for this socket (receive buffer full), best effort: the `drops`
   * column of /proc/net/udp{,6} for the socket's inode, else the growth of the host-wide
   * Udp RcvbufErrors of /proc/net/snmp since start(), else -1 (not Linux). Reads /proc: call it
   * from a metrics tick, not per packet.
   */
  kernelDrops(): number;
}

/** Counter names this unit increments. */
export const VXLAN_RECEIVER_COUNTERS = {
  vxlan_datagrams_received: 'datagrams received on the mirror socket',
  vxlan_bytes_received: 'bytes of those datagrams (VXLAN header included)',
  vxlan_datagram_max_bytes: 'largest datagram seen (high-water mark; > 1500 proves jumbo frames arrive whole)',
  vxlan_recv_buffer_capped: 'the OS granted a smaller receive buffer than configured (raise net.core.rmem_max)',
  vxlan_socket_errors: 'socket errors reported after start',
  vxlan_recv_buffer_bytes: 'receive buffer the OS granted (a high-water mark, as reported by getsockopt)',
} as const;

function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      const head = lines[i]!;
      if (!head.startsWith('Udp: ')) continue;
      const names = head.split(/\s+/);
      const vals = lines[i + 1]!.split(/\s+/);
      const k = names.indexOf('RcvbufErrors');
      if (k > 0 && vals[0] === 'Udp:') return Number(vals[k]);
    }
  } catch {
    /* not Linux */
  }
  return -1;
}

function socketInodes(): Set<string> {
  const out = new Set<string>();
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
        if (m !== null) out.add(m[1]!);
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/** `drops` of the socket bound to `port` that belongs to this process, or -1. */
function socketDrops(port: number): number {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  let mine: Set<string> | null = null;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
      if (f.length < 13 || !f[1]!.endsWith(`:${portHex}`)) continue;
      mine ??= socketInodes();
      if (mine.has(f[9]!)) return Number(f[12]);
    }
  }
  return -1;
}

export function createVxlanReceiver(opts: VxlanReceiverOptions, sink: FrameSink, counters: Counters): VxlanReceiver {
  let socket: Socket | null = null;
  let snmpAtStart = -1;
  const timeOrigin = performance.timeOrigin;

  const onMessage = (msg: Buffer): void => {
    const tsUs = Math.floor((timeOrigin + performance.now()) * 1000);
    counters.inc('vxlan_datagrams_received');
    counters.inc('vxlan_bytes_received', msg.length);
    counters.max('vxlan_datagram_max_bytes', msg.length);
    sink.onFrame(msg, LINKTYPE.VXLAN_PAYLOAD, tsUs, msg.length);
  };

  return {
    start(): Promise<void> {
      if (socket !== null) return Promise.reject(new Error('vxlan receiver already started'));
      const s = createSocket({ type: isIPv6(opts.host) ? 'udp6' : 'udp4' });
      socket = s;
      return new Promise<void>((resolve, reject) => {
        const onStartError = (err: Error): void => {
          socket = null;
          s.close();
          reject(err);
        };
        s.once('error', onStartError);
        s.on('message', onMessage);
        s.bind(opts.port, opts.host, () => {
          s.off('error', onStartError);
          s.on('error', () => counters.inc('vxlan_socket_errors'));
          try {
            s.setRecvBufferSize(opts.recvBufferBytes);
          } catch {
            counters.inc('vxlan_recv_buffer_capped');
          }
          // Linux reports twice the granted value (bookkeeping overhead); anything below the request is a cap.
          const got = s.getRecvBufferSize();
          if (got < opts.recvBufferBytes) counters.inc('vxlan_recv_buffer_capped');
          counters.max('vxlan_recv_buffer_bytes', got);
          snmpAtStart = udpRcvbufErrors();
          resolve();
        });
      });
    },
    stop(): Promise<void> {
      const s = socket;
      socket = null;
      if (s === null) return Promise.resolve();
      return new Promise<void>((resolve) => s.close(() => resolve()));
    },
    address(): { address: string; port: number } {
      if (socket === null) throw new Error('vxlan receiver not started');
      const a = socket.address();
      return { address: a.address, port: a.port };
    },
    kernelDrops(): number {
      if (socket === null) return -1;
      const own = socketDrops(socket.address().port);
      if (own >= 0) return own;
      const now = udpRcvbufErrors();
      return now >= 0 && snmpAtStart >= 0 ? now - snmpAtStart : -1;
    },
  };
}
