export { createRecordingProxy, type RecordingProxy, type RecordingProxyOptions } from './proxy/recording-proxy.js';
export { createProxyServer, type ProxyServerOptions } from './proxy/server.js';
export type { ProxyMonitor } from './proxy/recorder.js';
export type { TokenUsage } from './proxy/usage.js';
export { RECORDED_PATHS } from './proxy/apis.js';
