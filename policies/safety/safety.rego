# Safety: the hard limits of DESIGN §4. Every violation here denies, and no approval overrides it.
#
# The Kubernetes MCP server enforces the same limits on its own; this layer turns a proposal away
# before a human is asked to approve something that would be refused anyway. The limits are
# constants, not data: changing one is a reviewed code change that must move together with the MCP
# server's, never a data tweak.
package governor.safety

import data.governor.lib.format

max_scale_up_factor := 3

min_replicas_production := 2

scale_cooldown_s := 300

# Each violation carries the verdict it imposes on its own; governor.decision takes the most
# restrictive one and drops the field from what it returns.
violations contains _violation("invalid_params", msg) if {
	_scaling
	some name in ["from_replicas", "to_replicas"]
	not _replicas(name)
	msg := sprintf("scale_deployment needs %s as a whole number of replicas (0 or more); refusing to guess", [name])
}

# Compared as to > 3 × from rather than by dividing, so a factor of exactly 3 is never pushed over
# the limit by floating point.
violations contains _violation("max_scale_up_factor", msg) if {
	_scaling
	from := _replicas("from_replicas")
	to := _replicas("to_replicas")
	from > 0
	to > from * max_scale_up_factor
	msg := sprintf("%sx > %dx per invocation (%s from %d to %d replicas)", [_factor_text(to / from), max_scale_up_factor, _target, from, to])
}

# From zero there is no factor to bound: the limit cannot be shown to hold, so it does not (fail
# closed). A scaled-to-zero deployment is brought back by a human or in steps the MCP server accepts.
violations contains _violation("max_scale_up_factor", msg) if {
	_scaling
	_replicas("from_replicas") == 0
	to := _replicas("to_replicas")
	to > 0
	msg := sprintf("scale-up of %s from 0 to %d replicas has no bounded factor; at most %dx per invocation", [_target, to, max_scale_up_factor])
}

violations contains _violation("min_replicas_production", msg) if {
	_scaling
	input.context.environment == "production"
	to := _replicas("to_replicas")
	to < min_replicas_production
	msg := sprintf("scale %s to %d replica(s) < %d minimum for a production deployment", [_target, to, min_replicas_production])
}

# No number means the deployment has never been scaled (null or absent): nothing to cool down from.
violations contains _violation("scale_cooldown", msg) if {
	_scaling
	since := input.context.seconds_since_last_scale
	is_number(since)
	since < scale_cooldown_s
	msg := sprintf(
		"%s was last scaled %ss ago < %ds cooldown between scaling actions on the same deployment (wait %ss more)",
		[_target, format.num(since), scale_cooldown_s, format.num(scale_cooldown_s - since)],
	)
}

_scaling if input.proposal.action == "scale_deployment"

# A node group's size is a whole number of nodes. Each group's own bounds (fewest and most nodes,
# most nodes per call) are configuration the Cloud Provider MCP server enforces on every call
# (config/node-groups.json); this layer holds what is true of every group.
violations contains _violation("invalid_params", msg) if {
	_node_group_scaling
	some name in ["from_nodes", "to_nodes"]
	not _replicas(name)
	msg := sprintf("scale_node_group needs %s as a whole number of nodes (0 or more); refusing to guess", [name])
}

_node_group_scaling if input.proposal.action == "scale_node_group"

_target := object.get(input, ["proposal", "target", "name"], "the deployment")

# Whole numbers only, returned through floor() so that a JSON 8.0 prints as "8" in both Go and Wasm.
_replicas(name) := floor(n) if {
	n := object.get(input, ["proposal", "params", name], null)
	is_number(n)
	n == floor(n)
	n >= 0
}

# One decimal is enough to read a factor, but a factor just over the limit (3.04) must not print as
# the limit itself ("3.0x > 3x"): such factors get two decimals, rounded up.
_factor_text(f) := format.one_decimal(f) if {
	round(f * 10) > max_scale_up_factor * 10
} else := format.num(ceil(f * 100) / 100)

_violation(rule, msg) := {"layer": "safety", "rule": rule, "message": msg, "verdict": "deny"}
