import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sourceFiles } from '../helpers/source-files';

/** The code and the tests, this test aside (it names what it looks for). */
const files = () => [...sourceFiles('src'), ...sourceFiles('test')].filter((f) => f.path !== 'test/unit/doc-references.test.ts');

/** The headings of a Markdown file, without their #s. */
function headings(path: string): Set<string> {
  const text = readFileSync(join(ROOT, path), 'utf8');
  return new Set([...text.matchAll(/^#+\s+(.+?)\s*$/gm)].map((m) => m[1]));
}

describe('references in the code resolve inside the repository', () => {
  it('nothing points at documents outside it (§ sections, DESIGN.md, issue numbers, ../shared)', () => {
    const outside = /§|DESIGN\.md|\bissue \d|shared\/reference|protocol reference|reference §/g;
    const found = files().flatMap((f) => [...f.text.matchAll(outside)].map((m) => `${f.path}: ${m[0]}`));
    expect(found).toEqual([]);
  });

  it('every cited Markdown section exists (docs/…md "Heading", README "Heading")', () => {
    const cited = files().flatMap((f) => [...f.text.matchAll(/\b(docs\/[\w-]+\.md|README(?:\.md)?) "([^"]+)"/g)].map((m) => ({ where: f.path, doc: m[1] === 'README' ? 'README.md' : m[1], heading: m[2] })));
    const missing = cited.filter((c) => !existsSync(join(ROOT, c.doc)) || !headings(c.doc).has(c.heading)).map((c) => `${c.where}: ${c.doc} "${c.heading}"`);
    expect(missing).toEqual([]);
    expect(cited.length).toBeGreaterThan(10);
  });

  it('the README sends readers to the protocol notes in docs/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/\.\.\/shared/);
    expect(readme).toContain('docs/wechat-protocol-notes.md');
  });
});
