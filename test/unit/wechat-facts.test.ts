import { sourceFiles, withoutComments, type SourceFile } from '../helpers/source-files';

/** Code outside src/wechat that speaks to WeChat or stands in for it. */
const users = (): SourceFile[] => [...sourceFiles('src/delivery'), ...sourceFiles('src/emulator'), ...sourceFiles('src/http'), ...sourceFiles('test/helpers')];

/** Where `pattern` occurs in the code of `files`, as "path: match"; comments and quoted text (reasons, log lines) aside. */
function occurrences(files: SourceFile[], pattern: RegExp): string[] {
  return files.flatMap((f) => [...withoutComments(f.text).replace(/'(?:[^'\\\n]|\\.)*'/g, "''").matchAll(pattern)].map((m) => `${f.path}: ${m[0]}`));
}

describe('WeChat facts are written once, in src/wechat, and used by delivery and the emulator alike', () => {
  it('no errcode is written as a number outside src/wechat/errcodes.ts', () => {
    expect(occurrences(users(), /(?<![\w.])(4[0-8]\d{3}|500\d\d|6100\d|895\d\d)(?![\w.])/g)).toEqual([]);
  });

  it('the customer-service window rules, the China day and the text limit are not restated', () => {
    const restated = /48\s*\*\s*3600|8\s*\*\s*3600|\b2048\b|CHINA_OFFSET/g;
    expect(occurrences(users(), restated)).toEqual([]);
  });

  it('pushes are signed and replies sealed only through src/wechat', () => {
    expect(occurrences(users(), /\b(wechatSignature|sealPush|sealReply)\(/g)).toEqual([]);
  });

  it('the router renders no XML of its own: passive replies come from src/wechat/replies.ts', () => {
    expect(occurrences(sourceFiles('src/http'), /\bbuildXml\(/g)).toEqual([]);
  });
});
