import { fieldLines, fillPattern, renderFallback, truncateUtf8 } from '../../src/delivery/fallback-text';
import { TEXT_LIMIT_BYTES } from '../../src/wechat/text-limit';

describe('fallback sentence', () => {
  it('fills a config pattern with business fields and the url', () => {
    expect(renderFallback({ pattern: 'Order {{order_no}} is paid: {{amount}}. {{url}}' }, { order_no: 'A1001', amount: '39.80' }, 'https://shop.example/o/1')).toBe(
      'Order A1001 is paid: 39.80. https://shop.example/o/1',
    );
  });

  it('handles CJK text and leaves nothing behind for a missing field', () => {
    expect(fillPattern('您的订单{{order_no}}已支付{{amount}}元。{{note}}', { order_no: '订单八八', amount: '39.8' })).toBe('您的订单订单八八已支付39.8元。');
  });

  it('drops a line that had only missing fields', () => {
    expect(fillPattern('Seat: {{seat}}\nHall: {{hall}}\nEnjoy!', { seat: '7F' })).toBe('Seat: 7F\nEnjoy!');
  });

  it('uses the template content with its {{x.DATA}} placeholders when no pattern is configured', () => {
    const content = '{{first.DATA}}\n订单号：{{keyword1.DATA}}\n金额：{{keyword2.DATA}}\n{{remark.DATA}}';
    expect(renderFallback({ templateContent: content, templateTitle: '订单支付成功通知' }, { keyword1: 'A1001', keyword2: '39.80元' })).toBe(
      '订单支付成功通知\n订单号：A1001\n金额：39.80元',
    );
  });

  it('skips a pattern whose fields are not all there, for the template content or field lines', () => {
    const values = { order_no: 'A9' };
    expect(renderFallback({ pattern: 'Order {{order_no}} is paid: {{amount}}.', templateContent: 'Order: {{order_no.DATA}}\nAmount: {{amount.DATA}}', templateTitle: 'Paid' }, values)).toBe(
      'Paid\nOrder: A9',
    );
    expect(renderFallback({ pattern: 'Order {{order_no}} is paid: {{amount}}.' }, values)).toBe('order_no: A9');
    expect(renderFallback({ pattern: 'Order {{order_no}}. {{url}}' }, values)).toBe('Order A9.');
  });

  it('falls back to one "name: value" line per field', () => {
    expect(renderFallback({}, { order_no: 'A1', amount: '5' }, 'https://x.example')).toBe('order_no: A1\namount: 5\nhttps://x.example');
    expect(fieldLines({ a: '1', b: '' })).toBe('a: 1');
  });

  it('prefers the text the business sent', () => {
    expect(renderFallback({ explicitText: 'Hi there', pattern: '{{a}}' }, { a: 'x' })).toBe('Hi there');
  });

  it('inserts values as text: no markup, no link, no extra lines', () => {
    const out = fillPattern('Note: {{note}}', { note: '<a href="https://evil.example">click</a>\nFake line' });
    expect(out).not.toMatch(/[<>]/);
    expect(out).not.toContain('https://');
    expect(out).not.toContain('\n');
    expect(out).toContain('click');
  });

  describe('strips characters that could hide or reorder the text shown', () => {
    const shown = (value: string) => fillPattern('Order {{o}} paid', { o: value });
    it('C0 controls and DEL (NUL, BEL, ESC…)', () => {
      expect(shown('A\u0000B\u0001\u0007\u0008\u000b\u000c\u001b[2J\u001f\u007fC')).toBe('Order AB[2JC paid');
    });
    it('C1 controls (NEL, CSI…)', () => {
      expect(shown('A\u0080\u0085\u009b\u009fB')).toBe('Order AB paid');
    });
    it('direction marks (LRM, RLM, ALM)', () => {
      expect(shown('A\u200eB\u200fC\u061cD')).toBe('Order ABCD paid');
    });
    it('direction embeddings and overrides (U+202A–U+202E)', () => {
      expect(shown('\u202a\u202b\u202c\u202d\u202egpj.exe')).toBe('Order gpj.exe paid');
    });
    it('direction isolates (U+2066–U+2069)', () => {
      expect(shown('\u2066A\u2067B\u2068C\u2069')).toBe('Order ABC paid');
    });
    it('the byte order mark / zero-width no-break space (U+FEFF)', () => {
      expect(shown('\ufeffA\ufeff')).toBe('Order A paid');
    });
    it('in the "name: value" lines too', () => {
      expect(renderFallback({}, { note: 'x\u202e\u0000y' })).toBe('note: xy');
    });
    it('keeps what text needs: emoji joiners, CJK, and turns tabs and line separators into spaces', () => {
      expect(shown('👩\u200d💻 订单')).toBe('Order 👩\u200d💻 订单 paid');
      expect(shown('a\tb\u2028c\u2029d\r\ne')).toBe('Order a b c d e paid');
    });
  });

  it('looks up only fields the values have, never the prototype', () => {
    expect(fillPattern('[{{constructor}}] [{{toString}}] {{a}}', { a: 'A' })).toBe('[] [] A');
    expect(renderFallback({ pattern: '{{constructor}} {{a}}' }, { a: 'A' })).toBe('a: A');
  });

  it('does not let a value expand other placeholders', () => {
    expect(fillPattern('{{a}} {{b}}', { a: '{{b}}', b: 'B' })).toBe('{{b}} B');
  });

  it('cuts to 2048 bytes on a character boundary', () => {
    const text = renderFallback({ pattern: '{{x}}' }, { x: '通'.repeat(1000) });
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(TEXT_LIMIT_BYTES);
    expect(text.endsWith('…')).toBe(true);
    expect(text).not.toContain('\uFFFD');
    const emoji = truncateUtf8('😀'.repeat(600), 2048);
    expect(Buffer.byteLength(emoji, 'utf8')).toBeLessThanOrEqual(2048);
    expect([...emoji.slice(0, -1)].every((c) => c === '😀')).toBe(true);
    expect(truncateUtf8('short')).toBe('short');
  });
});
