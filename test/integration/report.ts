import Mocha from 'mocha';

/** Prints a measured figure with the test output (console.log in the extension host goes nowhere visible). */
export function report(text: string): void {
	Mocha.reporters.Base.consoleLog(`      ${text}`);
}
