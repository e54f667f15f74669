// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
	paths: [{ name: 'vscode', message: 'src/core and src/shared run without VS Code: keep vscode in src/vscode and src/extension.ts.', allowTypeImports: true }],
};

export default tseslint.config(
	{ ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'test-output/**'] },
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			curly: ['error', 'multi-line'],
			eqeqeq: ['error', 'smart'],
			'no-throw-literal': 'error',
			semi: ['error', 'always'],
			quotes: ['error', 'single', { avoidEscape: true, allowTemplateLiterals: true }],
		},
	},
	{
		files: ['src/core/**/*.ts', 'src/shared/**/*.ts', 'src/cli.ts'],
		rules: { '@typescript-eslint/no-restricted-imports': ['error', noVscode] },
	},
	{
		files: ['src/shared/**/*.ts', 'media/**/*.ts'],
		rules: {
			'@typescript-eslint/no-restricted-imports': ['error', {
				...noVscode,
				patterns: [{ group: ['node:*', 'fs', 'net', 'tls', 'http', 'http2', 'crypto'], message: 'shared and webview code runs in the browser too.' }],
			}],
		},
	},
	{
		files: ['**/*.mjs', '**/*.cjs'],
		languageOptions: {
			globals: Object.fromEntries(['process', 'console', 'URL', '__dirname', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Buffer']
				.map((name) => [name, 'readonly'])),
		},
	},
	{
		files: ['test/fixtures/viteApp/**/*.js'],
		languageOptions: { globals: { document: 'readonly', window: 'readonly', location: 'readonly' } },
	},
);
