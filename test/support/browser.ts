// A real browser for the Web UI tests: Debian's chromium, driven by
// playwright-core (no browser download), and screenshots in test-artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runsWith } from './system-tools.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');

/** Whether this machine runs the browser tests (always in CI, where a missing chromium fails them). */
export const runsChromium = () => runsWith('chromium', existsSync(CHROMIUM));

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The page as it is now, in test-artifacts/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** For `.catch()`: keeps a screenshot of the page that failed, then fails. */
export const failWithScreenshot = (page: Page, name: string) => async (err: unknown) => {
  await screenshot(page, name).catch(() => {});
  throw err;
};
