import { randomBytes } from 'node:crypto';
import { SecretFinder } from '../../src/log/secret-finder';

// Every log line passes through this: with a few secrets each is looked for on its own, with many
// (three per account) the text is read once. Both ways must find the same secrets, anywhere.

const finderOf = (secrets: readonly string[]) => {
  const finder = new SecretFinder();
  secrets.forEach((s) => finder.add(s));
  return finder;
};
const appsecret = () => randomBytes(16).toString('hex');

describe.each([
  ['a few secrets', 3],
  ['the secrets of a thousand accounts', 3000],
])('with %s', (_, count) => {
  const secrets = Array.from({ length: count }, appsecret);
  // as short as a secret may be: its only window of characters is the text's last one below
  const shortest = 'Zq9x7W';
  const finder = finderOf([...secrets, shortest]);

  it('finds a secret at the start, at the end, glued to other characters, and the whole text', () => {
    const [first, middle, last] = [secrets[0], secrets[Math.floor(count / 2)], secrets[count - 1]];
    expect(finder.in(`${first} failed`)).toEqual([first]);
    expect(finder.in(`token=x${middle}y&z`)).toEqual([middle]);
    expect(finder.in(`ends with ${last}`)).toEqual([last]);
    expect(finder.in(last)).toEqual([last]);
    expect(finder.in(`id=${shortest}`)).toEqual([shortest]);
    expect(finder.in(shortest)).toEqual([shortest]);
    expect([...finder.in(`two: ${first}/${last}`)].sort()).toEqual([first, last].sort());
  });

  it('finds nothing in a text without one, a near miss included', () => {
    expect(finder.in('notification accepted')).toEqual([]);
    expect(finder.in(`almost ${secrets[1].slice(0, -1)}!`)).toEqual([]);
    expect(finder.in('short')).toEqual([]);
  });
});

it('gives a secret inside another one after it, so the longer is replaced whole', () => {
  const many = Array.from({ length: 100 }, appsecret);
  for (const finder of [finderOf(['abcdef12', 'abcdef1234']), finderOf([...many, 'abcdef12', 'abcdef1234'])]) {
    expect(finder.in('x abcdef1234 y')).toEqual(['abcdef1234', 'abcdef12']);
  }
});

it('tells apart secrets that begin alike, and ignores values too short to be secrets', () => {
  const alike = Array.from({ length: 40 }, (_, i) => `SAMEHEAD-${i}-${appsecret()}`);
  const finder = finderOf([...alike, 'abc12']);
  expect(finder.in(`a ${alike[7]} b`)).toEqual([alike[7]]);
  expect(finder.in('abc12 abc12')).toEqual([]);
});
