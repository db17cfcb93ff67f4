// `governor policy eval --input FILE`: the DESIGN §5 decision for one policy input, printed as one
// JSON object. What the gateway would decide for the same input, from the same bundle, so an
// operator can ask "why was this denied?" and a reviewer can try a policy change before it ships.
// The file holds a policy input, or a policy fixture (policies/fixtures/*.json: description, input,
// expected), whose input is evaluated, so any fixture can be replayed as it stands. The input is
// taken as it is: freeze windows, for one, are resolved when the gateway builds an input
// (context.active_freezes), so replaying an audited input gives the decision that was made.
// Exit codes: 0 a decision was printed (whatever its verdict); 2 the input file is unreadable, not
// JSON or not a policy input; 1 no policy answer (the bundle does not load or evaluate).
import { readFile } from 'node:fs/promises';
import { GovernorError, describeError } from '../src/core/errors.ts';
import { WasmPolicyEngine } from '../src/policy/wasm-policy-engine.ts';
import { openPolicyPublicKey } from '../src/policy/bundle-signature.ts';
import type { PolicyInput } from '../src/policy/policy-engine.ts';

/**
 * `out` receives the decision; `err` receives the one-line reason when there is none (it defaults
 * to `out`, so a caller that passes only one writer still sees why).
 */
export async function policyEval(
  opts: { input: string; bundle?: string; publicKeyFile?: string },
  out: (s: string) => void,
  err: (s: string) => void = out,
): Promise<number> {
  const problem = (message: string, code: number): number => {
    err(`governor policy eval: ${oneLine(message)}`);
    return code;
  };

  let text: string;
  try {
    text = await readFile(opts.input, 'utf8');
  } catch (e) {
    return problem(`cannot read ${opts.input}: ${describeError(e)}`, 2);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    return problem(`${opts.input} is not JSON: ${describeError(e)}`, 2);
  }

  // A policy input never has a top-level `input` (it is proposal + context), so this cannot
  // mistake one for the other.
  if (isFixture(input)) input = input.input;

  try {
    // The same signature check as the gateway's: an unsigned or tampered bundle gives no decision.
    const engine = await WasmPolicyEngine.fromBundle(opts.bundle, { publicKey: openPolicyPublicKey(opts.publicKeyFile).key });
    // evaluate() validates the input itself and names every problem; no second schema here.
    const decision = await engine.evaluate(input as PolicyInput);
    out(JSON.stringify(decision, null, 2));
    return 0;
  } catch (e) {
    if (e instanceof GovernorError && e.code === 'policy_invalid') return problem(`${opts.input}: ${e.message}`, 2);
    return problem(describeError(e), 1);
  }
}

function isFixture(value: unknown): value is { input: unknown } {
  return typeof value === 'object' && value !== null && 'input' in value && !('proposal' in value);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
