import { outputOf, shellQuote } from './runner';
import type { CaIdentity, ExecutedCommand, TrustAction, TrustChange, TrustEnvironment, TrustPlan, TrustStatus, TrustStore } from './types';

/** pkexec's exit codes: 126 the user dismissed the dialog (or is not allowed), 127 no agent / other failure. */
const PKEXEC_DISMISSED = 126;
const PKEXEC_FAILED = 127;

/** Checks that an approved plan belongs to this store and action, so the UI cannot run a stale one elsewhere. */
export function checkApproved(store: TrustStore, action: TrustAction, plan: TrustPlan): void {
	if (plan.storeId !== store.id || plan.action !== action) {
		throw new Error(`The approved plan is for ${plan.storeId} (${plan.action}), not ${store.id} (${action}).`);
	}
}

/**
 * What every store shares: install and uninstall run an approved plan (or a fresh one) after checking
 * that it was made for this store and action; the store only says how to execute it.
 */
export abstract class PlannedStore implements TrustStore {
	abstract readonly id: string;
	abstract readonly kind: TrustStore['kind'];
	abstract readonly label: string;
	abstract detect(): ReturnType<TrustStore['detect']>;
	abstract status(ca: CaIdentity): Promise<TrustStatus>;
	abstract plan(ca: CaIdentity, action: TrustAction): Promise<TrustPlan>;
	protected abstract execute(ca: CaIdentity, plan: TrustPlan): Promise<TrustChange>;

	install(ca: CaIdentity, approved?: TrustPlan): Promise<TrustChange> {
		return this.apply(ca, 'install', approved);
	}

	uninstall(ca: CaIdentity, approved?: TrustPlan): Promise<TrustChange> {
		return this.apply(ca, 'uninstall', approved);
	}

	private async apply(ca: CaIdentity, action: TrustAction, approved?: TrustPlan): Promise<TrustChange> {
		const plan = approved ?? await this.plan(ca, action);
		checkApproved(this, action, plan);
		return this.execute(ca, plan);
	}
}

/**
 * Runs a plan's commands in order and then asks the store again, so the outcome says what the store
 * really holds afterwards. A `terminal` command is not run: it is handed back for the UI to show.
 */
export async function executePlan(
	env: TrustEnvironment,
	store: TrustStore,
	ca: CaIdentity,
	plan: TrustPlan,
	details: { changed: readonly string[]; leftInPlace?: readonly string[] },
): Promise<TrustChange> {
	const base = { storeId: store.id, storeLabel: store.label, action: plan.action, leftInPlace: details.leftInPlace ?? [] };
	if (plan.commands.length === 0) {
		return { ...base, outcome: 'unchanged', message: plan.skipReason ?? 'Nothing to do.', ran: [], changed: [] };
	}
	const ran: ExecutedCommand[] = [];
	for (const command of plan.commands) {
		if (command.privilege === 'terminal') {
			return {
				...base, outcome: 'handed-off', ran, changed: [], terminalCommand: shellQuote(command.argv),
				message: `${store.label} needs administrator rights: run the command in the terminal (sudo asks for your password).`,
			};
		}
		const result = await env.runner.run(command.argv);
		ran.push({ argv: command.argv, code: result.code, output: outputOf(result) });
		if (result.code !== 0) {
			if (command.privilege === 'pkexec' && result.code === PKEXEC_DISMISSED) {
				return { ...base, outcome: 'declined', ran, changed: [], message: `The password dialog for ${store.label} was dismissed; nothing changed there.` };
			}
			if (command.privilege === 'pkexec' && result.code === PKEXEC_FAILED) {
				// No polkit agent (SSH, a bare window manager): fall back to a terminal the user can see.
				return {
					...base, outcome: 'handed-off', ran, changed: [], terminalCommand: shellQuote(['sudo', ...command.argv.slice(1)]),
					message: `pkexec could not ask for a password (${outputOf(result) || 'no authentication agent'}); run the command in the terminal instead.`,
				};
			}
			return { ...base, outcome: 'failed', ran, changed: [], message: `${shellQuote(command.argv)} failed (exit ${result.code}): ${outputOf(result) || 'no output'}` };
		}
	}
	const after: TrustStatus = await store.status(ca);
	const wanted = plan.action === 'install' ? after.state === 'trusted' : !after.entries.some((entry) => entry.ours);
	if (!wanted) {
		return { ...base, outcome: 'failed', ran, changed: [], message: `The commands succeeded, but ${store.label} now says: ${after.detail}` };
	}
	const verb = plan.action === 'install' ? 'Added' : 'Removed';
	return { ...base, outcome: 'done', ran, changed: details.changed, message: `${verb}: ${details.changed.join('; ') || store.label}.` };
}
