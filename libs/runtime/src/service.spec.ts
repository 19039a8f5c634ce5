import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { type ProcessEvent, type ProcessHooks, type Service, createService } from './service.js';
import type { StatusConfig } from './service-config.js';

/** A stand-in for `process`: specs send it signals and read the exit code. */
class FakeProcess extends EventEmitter implements ProcessHooks {
  readonly exits: number[] = [];
  private exited: ((code: number) => void)[] = [];
  override on(event: ProcessEvent, listener: (err?: unknown) => void): this {
    return super.on(event, listener);
  }
  override off(event: ProcessEvent, listener: (err?: unknown) => void): this {
    return super.off(event, listener);
  }
  exit(code: number): void {
    this.exits.push(code);
    this.exited.splice(0).forEach((resolve) => resolve(code));
  }
  nextExit(): Promise<number> {
    return new Promise((resolve) => this.exited.push(resolve));
  }
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'ipvs-agent', level: 'debug', destination: stream }) };
}

const services: Service<unknown>[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop('test over')));
});

function make(shutdownTimeoutMs = 1_000) {
  const proc = new FakeProcess();
  const { lines, logger } = logSink();
  const config: { host: string; status: StatusConfig } = { host: 'director1', status: { address: '127.0.0.1', port: 0 } };
  const svc = createService({ name: 'ipvs-agent', version: '1.2.3', config, logger, process: proc, shutdownTimeoutMs });
  services.push(svc);
  return { svc, proc, lines };
}

describe('createService', () => {
  it('on SIGTERM closes what was registered in reverse order and exits 0', async () => {
    const { svc, proc, lines } = make();
    const order: string[] = [];
    const { statusUrl } = await svc.start();
    svc.onStop('bus', async () => void order.push('bus'));
    svc.onStop('reconciler', () => void order.push('reconciler'));
    svc.ready();
    expect((await fetch(`${statusUrl}/readyz`)).status).toBe(200);

    const exit = proc.nextExit();
    proc.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(order).toEqual(['reconciler', 'bus']);
    // The status server was started first, so it is closed last.
    await expect(fetch(`${statusUrl}/healthz`)).rejects.toThrow();
    const info = lines.filter((l) => (l.level as number) >= 30);
    expect(info.map((l) => l.msg)).toEqual(['status server listening', 'started', 'stopping', 'stopped']);
    expect(info[2]).toMatchObject({ reason: 'SIGTERM' });
    expect(lines.filter((l) => l.msg === 'closed').map((l) => l.closer)).toEqual(['reconciler', 'bus', 'status server']);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('is not ready until ready() and says startup is what is missing', async () => {
    const { svc } = make();
    const { statusUrl } = await svc.start();
    let res = await fetch(`${statusUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, failing: ['startup'] });
    let connected = false;
    svc.addReadinessCheck('bus', () => connected);
    svc.ready();
    res = await fetch(`${statusUrl}/readyz`);
    expect(await res.json()).toEqual({ ready: false, failing: ['bus'] });
    connected = true;
    expect((await fetch(`${statusUrl}/readyz`)).status).toBe(200);
  });

  it('exits 1 within the time budget when a closer hangs', async () => {
    const { svc, proc, lines } = make(200);
    svc.onStop('stuck', () => new Promise<void>(() => undefined));
    const exit = proc.nextExit();
    const started = Date.now();
    proc.emit('SIGINT');
    expect(await exit).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines.find((l) => l.msg === 'closer did not finish in time')).toMatchObject({ closer: 'stuck' });
  });

  it('exits at once with 1 on a second signal during a slow stop', async () => {
    const { svc, proc } = make(5_000);
    svc.onStop('slow', () => new Promise<void>((r) => setTimeout(r, 300)));
    proc.emit('SIGTERM');
    const exit = proc.nextExit();
    proc.emit('SIGTERM');
    expect(await exit).toBe(1);
  });

  it('logs an uncaught error, stops, and exits 1', async () => {
    const { svc, proc, lines } = make();
    let closed = false;
    svc.onStop('bus', () => {
      closed = true;
    });
    const exit = proc.nextExit();
    proc.emit('uncaughtException', new Error('reconciler exploded'));
    expect(await exit).toBe(1);
    expect(closed).toBe(true);
    const fatal = lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ msg: 'uncaught error: stopping', err: { message: 'reconciler exploded' } });
  });

  it('serves its own metrics with the service info', async () => {
    const { svc } = make();
    const { statusUrl } = await svc.start();
    const text = await (await fetch(`${statusUrl}/metrics`)).text();
    expect(text).toContain('fulcrum_service_info{service="ipvs-agent",version="1.2.3",host="director1"} 1');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});
