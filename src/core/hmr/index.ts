// Hot reload through the proxy: dev-server clients whose socket address would bypass it.
export * from './webpackSocket';
export * from './webpackSocketWatch';
export * from './webpackConfigEdit';
