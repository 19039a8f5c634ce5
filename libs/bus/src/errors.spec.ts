import { ClosedConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { toBusError } from './bus.js';
import { BusError, BusUnavailableError, formatIssues } from './errors.js';

describe('toBusError', () => {
  it('makes a timeout an unavailable bus, and says a write may have happened', () => {
    const read = toBusError(new TimeoutError(), 'get desired/vs.web', 2000);
    expect(read).toBeInstanceOf(BusUnavailableError);
    expect(read.message).toBe('get desired/vs.web: no answer from NATS within 2000 ms');
    expect((read as BusUnavailableError).outcomeUnknown).toBe(false);
    const write = toBusError(new TimeoutError(), 'put desired/vs.web', 2000, true);
    expect(write.message).toBe('put desired/vs.web: no answer from NATS within 2000 ms (it may or may not have been done)');
    expect((write as BusUnavailableError).outcomeUnknown).toBe(true);
    expect(write.cause).toBeInstanceOf(TimeoutError);
  });

  it('makes missing JetStream and a closed connection an unavailable bus', () => {
    const noJs = toBusError(new RequestError('503', { cause: new NoRespondersError('$JS.API.INFO') }), 'readAll desired', 2000);
    expect(noJs).toBeInstanceOf(BusUnavailableError);
    expect(noJs.message).toBe('readAll desired: JetStream is not available');
    const closed = toBusError(new ClosedConnectionError(), 'get desired/x', 2000);
    expect(closed).toBeInstanceOf(BusUnavailableError);
    expect(closed.message).toBe('get desired/x: the bus is closed');
  });

  it('wraps anything else in a BusError that keeps the original', () => {
    const original = new Error('permissions violation for publish to "$KV.desired.x"');
    const err = toBusError(original, 'put desired/x', 2000);
    expect(err).toBeInstanceOf(BusError);
    expect(err).not.toBeInstanceOf(BusUnavailableError);
    expect(err.message).toBe('put desired/x: permissions violation for publish to "$KV.desired.x"');
    expect(err.cause).toBe(original);
    const already = new BusUnavailableError('x');
    expect(toBusError(already, 'y', 1)).toBe(already);
  });
});

describe('formatIssues', () => {
  it('names each field by its path', () => {
    expect(
      formatIssues([
        { code: 'too_small', path: ['destinations', 0, 'port'], message: 'Too small' },
        { code: 'custom', path: [], message: 'not JSON' },
      ]),
    ).toBe('destinations.0.port: Too small; not JSON');
  });
});
