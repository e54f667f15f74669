// Dev servers behind the proxy: what makes one refuse or bypass it (HMR sockets dialing past the
// proxy, host checks refusing the browser's name), and the config edits that fix it.
export * from './webpackSocket';
export * from './webpackSocketWatch';
export * from './configEdit';
export * from './hostCheck';
export * from './hostCheckWatch';
