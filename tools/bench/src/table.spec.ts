import { describe, expect, it } from 'vitest';
import { formatTable, median } from './table.js';

describe('formatTable', () => {
  it('aligns text left and numbers right, dashes for missing values', () => {
    expect(formatTable(['what', 'a s', 'ratio'], [['load 1,000 x 10', 6.1234, 0.5], ['no-op', null, 0.01234]])).toBe(
      ['| what            |   a s | ratio |', '| --------------- | ----: | ----: |', '| load 1,000 x 10 | 6.123 | 0.500 |', '| no-op           |     - | 0.012 |'].join('\n'),
    );
  });
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(() => median([])).toThrow('median of no values');
  });
});
