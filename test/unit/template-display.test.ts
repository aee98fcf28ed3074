import { displayLosses } from '../../src/delivery/template-display';
import { templateFields } from '../../src/wechat/template-content';

describe('what WeChat shows of a template since 2023', () => {
  const content = '{{first.DATA}}\n影片：{{thing1.DATA}}\n场次：{{time2.DATA}}\n{{remark.DATA}}';

  it('reads the fields from the content', () => {
    expect(templateFields(content)).toEqual(['first', 'thing1', 'time2', 'remark']);
  });

  it('notes values over 20 characters and data relying on first/remark', () => {
    const notes = displayLosses(content, { first: 'Hello', thing1: '一部名字非常非常非常非常非常非常长的电影作品', time2: '19:30' });
    expect(notes).toEqual(['first is not shown by WeChat since 2023', 'thing1 is cut to 20 characters (22 given)']);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(displayLosses('{{a.DATA}}', { a: '😀'.repeat(20) })).toEqual([]);
    expect(displayLosses('{{a.DATA}}', { a: '😀'.repeat(21) })).toHaveLength(1);
  });
});
