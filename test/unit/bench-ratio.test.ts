import { describeRatio } from '../../bench/lib/stats';

// bench:receipts and bench:flow state their goals as the ratio of two servers' medians, with each round's beside it.

test('the ratio of the medians, then each round pair by pair', () => {
  // medians 4 and 2, whatever the order of the rounds
  expect(describeRatio([6, 2, 4], [2, 1, 2])).toBe('2.00× (by round: 3.00×, 2.00×, 2.00×)');
  expect(describeRatio([1500], [3000])).toBe('0.50× (by round: 0.50×)');
});
