# The decision of DESIGN §5: one verdict and every reason for it. This is the bundle's only
# entrypoint (governor/decision/decision); policy_version is added by the engine that loads it.
#
# Each layer package offers a set `violations` of {layer, rule, message, verdict}, where `verdict`
# is what that finding imposes on its own. The verdict here is the most restrictive of them, and
# `allow` only when no layer found anything.
package governor.decision

import data.governor.autonomy
import data.governor.cost
import data.governor.operational
import data.governor.safety
import data.governor.sla

# The one place where layers meet: the four policy layers of DESIGN §4 (safety, SLA, operational,
# cost) and the autonomy / blast-radius rules. A new layer is a new package whose `violations` set
# is added to this union; nothing else changes.
findings := (((safety.violations | sla.violations) | operational.violations) | cost.violations) | autonomy.violations

# Anything but an explicit require_approval counts as deny, so a layer with a misspelt verdict
# fails closed instead of letting a proposal through.
_restrictiveness(finding) := 1 if {
	finding.verdict == "require_approval"
} else := 2

verdict := "deny" if {
	some finding in findings
	_restrictiveness(finding) == 2
} else := "require_approval" if {
	count(findings) > 0
} else := "allow"

# Most restrictive first, then by layer, rule and message: the same input always lists the same
# reasons in the same order, and the reason that decided the verdict comes first.
violations := [{"layer": layer, "rule": rule, "message": message} |
	some [_, layer, rule, message] in sort([[2 - _restrictiveness(f), f.layer, f.rule, f.message] | some f in findings])
]

decision := {"verdict": verdict, "violations": violations}
