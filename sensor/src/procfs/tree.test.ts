import { describe, expect, it } from 'vitest';
import { descendantsOf } from './tree';

describe('descendantsOf', () => {
  it('walks children, grandchildren, not the roots or strangers', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 10],
      [20, 1],
      [21, 20],
    ]);
    expect(descendantsOf([10], parents).sort()).toEqual([11, 12, 13]);
    expect(descendantsOf([10, 20], parents).sort()).toEqual([11, 12, 13, 21]);
    expect(descendantsOf([99], parents)).toEqual([]);
  });
});
