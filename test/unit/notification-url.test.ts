import { notificationBody } from '../../src/http/notification-schema';

// A notice's `url` is the link WeChat opens from the template message: an http(s) URL written out
// with its `//`, as the URL parser takes it; what is stored is the text the parser read.

const urlOf = (url: string) => {
  const parsed = notificationBody.safeParse({ openid: 'oUSER_url_000001', template: 'order_paid', data: { a: 'x' }, url });
  return parsed.success ? { url: parsed.data.url } : { refused: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
};

it.each([
  ['https://shop.example.com/orders/A1?x=1#top', 'https://shop.example.com/orders/A1?x=1#top'],
  ['  HTTP://Shop.Example.com/a  ', 'HTTP://Shop.Example.com/a'],
  ['https://exa\nmple.com/a', 'https://example.com/a'],
  ['http://[::1]:8080/', 'http://[::1]:8080/'],
])('takes %j as %j', (sent, stored) => {
  expect(urlOf(sent)).toEqual({ url: stored });
});

it.each(['https:example.com', 'https:/x', 'javascript:alert(1)', 'ftp://files.example.com/a', 'mailto:a@example.com', '\u0001https://example.com'])(
  'refuses %j: not an http(s) URL',
  (sent) => {
    expect(urlOf(sent)).toEqual({ refused: ['url: must be an http(s) URL'] });
  },
);

it('refuses text the URL parser does not take, and a URL over 1,024 characters', () => {
  expect(urlOf('https://a b')).toEqual({ refused: [expect.stringMatching(/^url: /)] });
  expect(urlOf(`https://example.com/${'a'.repeat(1010)}`)).toEqual({ refused: [expect.stringMatching(/^url: Too big/)] });
});
