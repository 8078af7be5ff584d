// The README and docs/ link to each other by file and heading; a renamed
// heading or a moved page must not leave a link that goes nowhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAGES = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'ARCHITECTURE.md', ...readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)];
/** Pages that other work writes (the generated CLI reference, deployment, Heroku Connect): linked before they land. */
const PENDING = new Set(['docs/cli.md', 'docs/deployment.md', 'docs/heroku-connect.md']);

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');

const text = (page: string) => readFileSync(path.join(ROOT, page), 'utf8');
const anchorsOf = (page: string) => new Set([...text(page).matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)));

describe('links in the README and docs/', () => {
  it('go to pages and headings that exist', () => {
    const broken = PAGES.flatMap((page) => {
      const prose = text(page).replace(/```[\s\S]*?```/g, '');
      return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1]!)
        .filter((link) => !/^[a-z]+:/.test(link))
        .filter((link) => {
          const [file, anchor] = link.split('#');
          const target = file ? path.normalize(path.join(path.dirname(page), file)) : page;
          if (PENDING.has(target)) return false;
          if (!existsSync(path.join(ROOT, target))) return true;
          return anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor);
        })
        .map((link) => `${page}: ${link}`);
    });
    expect(broken).toEqual([]);
  });

  it('keep the README short', () => {
    expect(text('README.md').length).toBeLessThanOrEqual(15 * 1024);
  });
});
