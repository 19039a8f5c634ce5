import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { choosePaint, colours, fieldDiff, plain, renderPlan } from './render.js';

describe('output', () => {
  it('colours only on a terminal without NO_COLOR, unless told', () => {
    expect(choosePaint('auto', true, {})).toBe(colours);
    expect(choosePaint('auto', false, {})).toBe(plain);
    expect(choosePaint('auto', true, { NO_COLOR: '1' })).toBe(plain);
    expect(choosePaint('always', false, {})).toBe(colours);
    expect(choosePaint('never', true, {})).toBe(plain);
  });

  it('shows a plan as created, changed (field by field) and deleted objects with a count', () => {
    const text = renderPlan(
      [
        { key: 'vs.a', action: 'create', after: {} },
        { key: 'vs.b', action: 'update', before: { scheduler: 'rr', realServers: [{ weight: 1 }] }, after: { scheduler: 'wrr', realServers: [{ weight: 2 }], quorum: 2 } },
        { key: 'host.c', action: 'delete', before: {} },
        { key: 'host.d', action: 'unchanged' },
      ],
      plain,
    );
    expect(text).toBe(
      '+ vs.a\n~ vs.b\n    scheduler: "rr" -> "wrr"\n    realServers[0].weight: 1 -> 2\n    quorum: (absent) -> 2\n- host.c\n1 to create, 1 to change, 1 to delete, 1 unchanged\n',
    );
    // Lists of another length are shown whole.
    expect(fieldDiff({ roles: ['a', 'b'] }, { roles: ['a'] })).toEqual(['roles: ["a","b"] -> ["a"]']);
  });

  it('maps API statuses to exit codes scripts can test', () => {
    expect([400, 409, 413, 404, 401, 403, 429, 502, 500, 503].map(exitCodeFor)).toEqual([
      EXIT.REFUSED, EXIT.REFUSED, EXIT.REFUSED, EXIT.NOT_FOUND, EXIT.DENIED, EXIT.DENIED, EXIT.DENIED, EXIT.OPERATION_FAILED, EXIT.FAILURE, EXIT.FAILURE,
    ]);
  });
});
