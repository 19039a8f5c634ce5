import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { ShutdownStack } from './shutdown.js';

const logger = createLogger({ name: 'test', level: 'silent' });

describe('ShutdownStack', () => {
  it('closes in reverse order of registration, waiting for each', async () => {
    const order: string[] = [];
    const stack = new ShutdownStack();
    stack.push('status server', () => void order.push('status server'));
    stack.push('bus', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('bus');
    });
    stack.push('reconciler', () => void order.push('reconciler'));
    expect(await stack.run(logger, 1_000)).toEqual({ clean: true, failed: [] });
    expect(order).toEqual(['reconciler', 'bus', 'status server']);
  });

  it('keeps going after a closer that throws, and reports it', async () => {
    const order: string[] = [];
    const stack = new ShutdownStack();
    stack.push('first', () => void order.push('first'));
    stack.push('bad', () => {
      throw new Error('close failed');
    });
    stack.push('last', async () => void order.push('last'));
    expect(await stack.run(logger, 1_000)).toEqual({ clean: false, failed: ['bad'] });
    expect(order).toEqual(['last', 'first']);
  });

  it('abandons a hanging closer when the budget runs out and skips the rest', async () => {
    const order: string[] = [];
    const stack = new ShutdownStack();
    stack.push('status server', () => void order.push('status server'));
    stack.push('stuck', () => new Promise<void>(() => undefined));
    stack.push('domain', () => void order.push('domain'));
    const started = Date.now();
    const result = await stack.run(logger, 150);
    const took = Date.now() - started;
    expect(result).toEqual({ clean: false, failed: ['stuck', 'status server'] });
    expect(order).toEqual(['domain']);
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1_000);
  });

  it('runs only once however often it is asked', async () => {
    let calls = 0;
    const stack = new ShutdownStack();
    stack.push('bus', async () => {
      calls++;
    });
    const [a, b] = await Promise.all([stack.run(logger, 100), stack.run(logger, 100)]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });
});
