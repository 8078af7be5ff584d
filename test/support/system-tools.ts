/**
 * Tests that drive a Debian package `npm ci` cannot bring (chromium,
 * docker-compose): they run where it is installed, and always in CI, whose
 * `.ci/run` installs it (so there a missing package fails them). Elsewhere a
 * newcomer's `npm test` skips them and says what to install.
 */
export function runsWith(packageName: string, installed: boolean): boolean {
  if (installed || process.env.CI) return true;
  console.warn(`skipping tests that need ${packageName}: not installed here (apt-get install ${packageName}; CI installs it)`);
  return false;
}
