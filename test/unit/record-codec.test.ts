import { receiptMove, receiptNotes } from '../../src/delivery/receipt-commit';
import { checkFieldNames, decodeHistory, decodeLine, decodeRecord, encodeLine, firstLine, newRecordShape } from '../../src/store/redis-record-codec';
import type { Fields, HistoryEntry } from '../../src/store/store';

const AT = '2026-11-30T07:43:16.172Z';
const MSGID = '3147483654123456790';

/** A record as the scripts hand it back: its hash flat, and its one history line. */
function roundTrip(fields: Fields, first: HistoryEntry) {
  const flat: string[] = [];
  const line = newRecordShape(fields, firstLine(first), flat);
  return { flat, line, record: decodeRecord(flat, [line]) };
}

describe('the history lines of a record in Redis', () => {
  const odd = [
    'accepted',
    `template TPL_X accepted, msgid ${MSGID}; the user sees it cut: first is not shown by WeChat since 2023; remark is not shown by WeChat since 2023`,
    'quotes " and \\ backslashes, a\nnewline, \t tab, \x01 and \x1f control characters, 你好, 🙂',
    'a lone surrogate \ud800 and \udfff',
    'phrases next to escapes: \\accepted"template \n; the user sees it cut: ',
    '{"looks":"like JSON"}',
    '*+~ 0A',
    '',
  ];

  it.each(odd)('reads back exactly what was written: %j', (detail) => {
    for (const entry of [
      { at: AT, status: 'awaiting_receipt', detail },
      { at: AT, status: 'delivered', detail, call: 't,0,43' },
      { at: AT, status: 'failed', detail, call: '' },
    ]) {
      expect(decodeLine(encodeLine(entry))).toEqual(entry);
    }
  });

  it('keeps the entries it cannot make compact as JSON, and reads them (and the lines of older records)', () => {
    const unusual: HistoryEntry[] = [
      { at: '2024-01-01T00:00:00Z', status: 'queued', detail: 'a time not in its canonical form' },
      { at: 'yesterday', status: 'queued', detail: 'no time at all' },
      { at: AT, status: 'parked', detail: 'a status of no lifecycle' },
      { at: AT, status: 'queued', detail: 'a call with a control character', call: 'x\x1fy' },
      { at: AT, status: 'queued', detail: 'a call with a lone surrogate', call: 'x\ud800' },
    ];
    for (const entry of unusual) {
      const line = encodeLine(entry);
      expect(line).toBe(JSON.stringify(entry));
      expect(decodeLine(line)).toEqual(entry);
    }
    // a note a script writes, or a line of a record written before compact lines
    expect(decodeLine('{"detail":"late receipt","status":"delivered","at":"2026-11-30T07:43:16.172Z"}')).toEqual({ at: AT, status: 'delivered', detail: 'late receipt' });
    expect(() => decodeLine('#garbage')).toThrow(/unreadable history line/);
  });

  it('makes the lines of a delivered notice short: time, status letter, call, and the phrases as one character each', () => {
    const sent = {
      at: AT,
      status: 'awaiting_receipt',
      detail: `template TPL_X accepted, msgid ${MSGID}; the user sees it cut: first is not shown by WeChat since 2023; remark is not shown by WeChat since 2023`,
      call: 't,0,43',
    };
    const receipt = { at: AT, status: 'delivered', detail: receiptMove(MSGID, 'success', 0).change.detail as string };
    const sizes = [{ at: AT, status: 'queued', detail: 'accepted' }, sent, receipt].map((e) => Buffer.byteLength(encodeLine(e)));
    // 8 time, 1 status, the call and its end, then each phrase as 1 (the template id, the msgid and "; " between them)
    expect(sizes).toEqual([8 + 1 + 1, 8 + 1 + 6 + 1 + (1 + 5 + 1 + 19 + 1 + 1 + 2 + 1), 8 + 1 + 1 + 19 + 1]);
    expect(JSON.stringify(sent).length).toBeGreaterThan(3 * sizes[1]);
  });

  it('reads an event history of stored lines, and the entries of events written before them', () => {
    const entry = { at: AT, status: 'delivered', detail: receiptNotes(MSGID, 'success').late };
    expect(decodeHistory([encodeLine(entry), JSON.stringify(entry), entry])).toEqual([entry, entry, entry]);
  });
});

describe('the fields of a record in Redis', () => {
  const first: HistoryEntry = { at: AT, status: 'queued', detail: 'accepted' };
  const createdAt = String(Date.parse(AT));
  const data = { first: { value: '您好，您的订单有新进展' }, order_no: { value: 'A0000000461' }, amount: { value: '¥128.00', color: '#FF0000' } };

  it('keeps each keyword of the template data in a field of its own, and gives the same data back', () => {
    const fields = { status: 'queued', openid: 'o1', data: JSON.stringify(data), attempts: '0' };
    const { flat, record } = roundTrip(fields, first);
    expect(flat).not.toContain('data');
    expect(flat).toEqual(expect.arrayContaining(['~Afirst', '您好，您的订单有新进展', '~Border_no', 'A0000000461', '~Camount', '¥128.00', '~C', '#FF0000']));
    expect(record).toEqual({ fields, history: [first] });
    // in any order (a hash that grew past a listpack does not keep it)
    const pairs = Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]).reverse().flat();
    expect(decodeRecord(pairs, [encodeLine(first)])?.fields).toEqual(fields);
  });

  it('splits data whose text needs escapes, and gives the same text back', () => {
    const fields = { status: 'queued', data: JSON.stringify({ a: { value: 'say "hi"\n\\ \u0001' }, b: { value: 'x', color: '#000000' } }) };
    const { flat, record } = roundTrip(fields, first);
    expect(flat).not.toContain('data');
    expect(record?.fields).toEqual(fields);
  });

  it.each([
    ['names JSON orders first (array indexes)', '{"1":{"value":"y"},"b":{"value":"x"}}'],
    ['a name with JSON punctuation', '{"a}:,{":{"value":"x"},"b":{"value":"","color":"#000000"}}'],
    ['52 keywords, one per place', JSON.stringify(Object.fromEntries(Array.from({ length: 52 }, (_, i) => [`k${i}`, { value: 'v' }])))],
  ])('splits data as JSON.stringify writes it, and gives the same text back: %s', (_why, json) => {
    const fields = { status: 'queued', data: json };
    const { flat, record } = roundTrip(fields, first);
    expect(flat).not.toContain('data');
    expect(record?.fields).toEqual(fields);
  });

  it.each([
    ['not an object', '[1,2]'],
    ['not JSON', '{"a":'],
    ['a keyword that is no {value, color}', '{"a":{"value":"x","extra":1}}'],
    ['a value that is no string', '{"a":{"value":5}}'],
    ['the colour first', '{"a":{"color":"#FF0000","value":"x"}}'],
    ['keys JSON.parse would reorder', '{"b":{"value":"x"},"1":{"value":"y"}}'],
    ['an empty keyword', '{"":{"value":"x"}}'],
    ['a lone surrogate', JSON.stringify({ a: { value: 'x\ud800' } })],
    ['more keywords than places', JSON.stringify(Object.fromEntries(Array.from({ length: 53 }, (_, i) => [`k${i}`, { value: 'v' }])))],
    ['spaces', '{ "a": { "value": "x" } }'],
    ['a letter written as an escape', '{"a":{"value":"\\u0041"}}'],
    ['a control character escaped in upper-case hex', '{"a":{"value":"x\\u001F"}}'],
    ['a keyword given twice', '{"a":{"value":"1"},"a":{"value":"2"}}'],
    ['a raw control character (not JSON)', '{"a":{"value":"x\ny"}}'],
    ['text after the data', '{"a":{"value":"x"}}}'],
    ['a keyword not closed', '{"a":{"value":"x"},'],
  ])('keeps data it could not give back exactly whole: %s', (_why, json) => {
    const fields = { status: 'queued', data: json };
    const { flat, record } = roundTrip(fields, first);
    expect(flat).toContain('data');
    expect(record?.fields).toEqual(fields);
  });

  it('stores createdAt once when it is the first line\'s time, and gives it back', () => {
    const same = roundTrip({ status: 'queued', createdAt }, first);
    expect(same.flat).not.toContain('createdAt');
    expect(same.line.startsWith('*')).toBe(true);
    expect(same.record?.fields).toEqual({ status: 'queued', createdAt });
    expect(decodeLine(same.line)).toEqual(first); // an event reads it as any line
    const other = roundTrip({ status: 'queued', createdAt: '5' }, first);
    expect(other.flat).toContain('createdAt');
    expect(other.record?.fields).toEqual({ status: 'queued', createdAt: '5' });
    const none = roundTrip({ status: 'queued' }, first);
    expect(none.record?.fields).toEqual({ status: 'queued' });
  });

  it("refuses field names that are the store's own, and reads a record with no status as none", () => {
    expect(() => checkFieldNames({ status: 'queued', '~1': 'x' })).toThrow(/names starting with "~" are the store's own/);
    expect(() => checkFieldNames({ status: 'queued', 'a~': 'x' })).not.toThrow();
    expect(decodeRecord([], [])).toBeNull();
  });
});
