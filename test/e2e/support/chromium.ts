/**
 * Debian's `chromium`, driven headless over the DevTools protocol by puppeteer-core (which never downloads a
 * browser). Tests that need it skip with a printed reason where it is missing, except on CI (CI=true), where a
 * missing browser fails them: .ci/run installs it.
 */
import puppeteer, { type Browser } from 'puppeteer-core';
import { findExecutable } from '../../../local/executables.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? findExecutable('chromium');

const onCi = process.env.CI === 'true';

/** True when a browser test should be skipped; says why on stderr once. */
export function skipWithoutChromium(what: string): boolean {
  if (CHROMIUM_PATH !== undefined || onCi) return false;
  process.stderr.write(
    `SKIPPED ${what}: chromium is not installed (apt-get install -y chromium, or set CHROMIUM_PATH); ` +
      'with CI=true this fails instead\n',
  );
  return true;
}

export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM_PATH === undefined) {
    throw new Error(
      'chromium not found on PATH (CI=true): install it with apt-get install -y chromium, as .ci/run does',
    );
  }
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root on CI has no user namespace for the sandbox; nothing outside is reachable, so ask for nothing.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
      '--disable-gpu',
    ],
  });
}
