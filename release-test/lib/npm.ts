import { type RunOptions, type RunResult, runOk } from './run.js';

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
