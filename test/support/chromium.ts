// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): requests
// go to fd 3, responses and events come back on fd 4, each a JSON text ended by a NUL byte. No
// WebSocket and no npm dependency; the browser is Debian's `chromium` (deploy/dev/install-test-deps.sh).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export function chromiumPath(): string | null {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return null;
}

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Set<(e: CdpEvent) => void>();
  private buf = '';

  private constructor(
    private readonly proc: ChildProcess,
    private readonly out: Writable,
    private readonly profile: string,
  ) {}

  static async launch(): Promise<Chromium> {
    const bin = chromiumPath();
    if (bin === null) throw new Error('chromium not found');
    const profile = mkdtempSync(join(tmpdir(), 'apitap-chromium-'));
    const proc = spawn(
      bin,
      [
        '--headless',
        '--no-sandbox', // tests run as root in containers, where the sandbox cannot start
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        '--remote-debugging-pipe',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const c = new Chromium(proc, proc.stdio[3] as Writable, profile);
    (proc.stdio[4] as Readable).setEncoding('utf8').on('data', (d: string) => c.onData(d));
    proc.on('exit', () => {
      for (const p of c.pending.values()) p.reject(new Error('chromium exited'));
      c.pending.clear();
    });
    await c.send('Browser.getVersion');
    return c;
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(this.buf.slice(0, i)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      } & Partial<CdpEvent>;
      this.buf = this.buf.slice(i + 1);
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method !== undefined) {
        const ev: CdpEvent = { method: msg.method, params: msg.params ?? {} };
        if (msg.sessionId !== undefined) ev.sessionId = msg.sessionId;
        for (const l of this.listeners) l(ev);
      }
    }
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params, ...(sessionId !== undefined ? { sessionId } : {}) });
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.out.write(msg + '\0');
    });
  }

  on(l: (e: CdpEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves with the first event of this method (and session) that satisfies `pred`. */
  waitFor(method: string, sessionId: string, timeoutMs: number): Promise<CdpEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timeout waiting for ${method}`));
      }, timeoutMs);
      const off = this.on((e) => {
        if (e.method === method && e.sessionId === sessionId) {
          clearTimeout(timer);
          off();
          resolve(e);
        }
      });
    });
  }

  /** A new tab with its own flat session. */
  async newPage(): Promise<Page> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    return new Page(this, sessionId, targetId);
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      // already gone
    }
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGKILL');
      await exited; // its helper processes may still write the profile until the browser is gone
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

export class Page {
  /** Every request the page tried to make (Network.requestWillBeSent), including the navigation itself. */
  readonly requests: string[] = [];
  /** Console and browser log entries (CSP violations land here) and uncaught exceptions. */
  readonly logs: string[] = [];
  private readonly off: () => void;

  constructor(
    private readonly browser: Chromium,
    readonly sessionId: string,
    readonly targetId: string,
  ) {
    this.off = browser.on((e) => {
      if (e.sessionId !== sessionId) return;
      if (e.method === 'Network.requestWillBeSent') {
        const req = e.params['request'] as { url: string };
        this.requests.push(req.url);
      } else if (e.method === 'Log.entryAdded') {
        const entry = e.params['entry'] as { level: string; text: string };
        this.logs.push(`${entry.level}: ${entry.text}`);
      } else if (e.method === 'Runtime.exceptionThrown') {
        this.logs.push(`exception: ${JSON.stringify(e.params['exceptionDetails'])}`);
      } else if (e.method === 'Runtime.consoleAPICalled') {
        this.logs.push(`console.${String(e.params['type'])}`);
      }
    });
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    return this.browser.send<T>(method, params, this.sessionId);
  }

  async init(width: number, height: number, mobile = false): Promise<void> {
    await this.send('Network.enable');
    await this.send('Page.enable');
    await this.send('Runtime.enable');
    await this.send('Log.enable');
    await this.viewport(width, height, mobile);
  }

  viewport(width: number, height: number, mobile = false): Promise<unknown> {
    return this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  /** Navigates and waits for the load event. */
  async goto(url: string, timeoutMs = 60_000): Promise<void> {
    const loaded = this.browser.waitFor('Page.loadEventFired', this.sessionId, timeoutMs);
    await this.send('Page.navigate', { url });
    await loaded;
  }

  async eval<T>(expression: string): Promise<T> {
    const r = await this.send<{ result: { value?: unknown }; exceptionDetails?: unknown }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (r.exceptionDetails !== undefined) throw new Error(`evaluate failed: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value as T;
  }

  /** PNG of the viewport, or of the whole page when `full` (the viewport grows to the content height, capped). */
  async screenshot(full: boolean, maxHeight = 12_000): Promise<Buffer> {
    const r = await this.send<{ data: string }>('Page.captureScreenshot', {
      format: 'png',
      ...(full ? { captureBeyondViewport: true, clip: await this.fullClip(maxHeight) } : {}),
    });
    return Buffer.from(r.data, 'base64');
  }

  private async fullClip(maxHeight: number): Promise<object> {
    const s = await this.eval<{ w: number; h: number }>(
      '({ w: document.documentElement.clientWidth, h: document.documentElement.scrollHeight })',
    );
    return { x: 0, y: 0, width: s.w, height: Math.min(s.h, maxHeight), scale: 1 };
  }

  async close(): Promise<void> {
    this.off();
    await this.browser.send('Target.closeTarget', { targetId: this.targetId });
  }
}
