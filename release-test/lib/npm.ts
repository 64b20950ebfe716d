import { type RunOptions, type RunResult, run, runOk } from './run.js';

/**
 * The environment of a user's shell: this process's, without what pnpm and turbo add for scripts
 * (`npm_config_*`, `npm_package_*`, `PNPM_*`…), which would change how npm behaves. The user's own npm
 * configuration (~/.npmrc: registry, certificates, `nodedir` for native builds) still applies.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|INIT_CWD$|TURBO_HASH$)/i.test(key)));
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** `npm …` in `cwd`; a failure throws with npm's output. */
export function npm(args: readonly string[], options: RunOptions): Promise<RunResult> {
  return runOk('npm', args, { ...options, env: options.env ?? userEnv() });
}

/** The registry npm is configured with here (the uplink a local registry proxies to). */
export async function configuredRegistry(cwd: string): Promise<string> {
  return (await npm(['config', 'get', 'registry'], { cwd })).stdout.trim();
}

/**
 * The machine's global npmrc (where an administrator sets `cafile`, a proxy, a mirror). `npm install -g
 * --prefix DIR` reads `DIR/etc/npmrc` instead, so an install into a temp prefix passes this one on, as
 * the user's own `npm install -g` would read it: without it, behind a TLS-intercepting proxy, every fetch
 * from the public registry failed with SELF_SIGNED_CERT_IN_CHAIN.
 */
export async function globalConfig(cwd: string): Promise<string> {
  return (await npm(['config', 'get', 'globalconfig'], { cwd })).stdout.trim();
}

/** npm's signs of a registry that did not answer in time (a packument fetched as nothing shows up as `name@undefined`). */
const NETWORK_TROUBLE = /ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|socket hang up|network|E50[0-9]|E429|@undefined/i;

/** What {@link run} appends when it killed a command at its time limit. */
const KILLED = /\[killed after \d+ ms\]$/;

/**
 * `npm install …` that tries again, up to `attempts` times, when the failure is the network's (the
 * public registry is outside the tests' control), as a user would: an error npm names as such, or an
 * install still waiting at `timeoutMs`. Any other failure throws at once.
 */
export async function npmInstall(args: readonly string[], options: RunOptions, attempts = 3): Promise<RunResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await run('npm', ['install', ...args], { ...options, env: options.env ?? userEnv() });
    if (result.code === 0) return result;
    const stalled = result.code === null && KILLED.test(result.stderr);
    if (attempt >= attempts || !(stalled || NETWORK_TROUBLE.test(result.stderr)))
      throw new Error(`npm install ${args.join(' ')} (in ${options.cwd}) exited with ${result.code} (attempt ${attempt})\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
    console.warn(`[release-test] npm install ${args.join(' ')} ${stalled ? 'stalled' : 'failed on the network'} (attempt ${attempt} of ${attempts}), trying again in 10 s:\n${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
}
