# Autonomy and blast radius (DESIGN §2, §4, §5): how far an agent may act without a human.
#
# The numbers are data (data.autonomy in policies/data.json): the blast-radius table per level, the
# actions supervised at every level, and each agent's maximum level. This file holds only what they
# mean. Any fact it needs and cannot read (a level, a blast-radius figure, a limit) denies: an
# unreadable proposal or table must never read as "within limits".
package governor.autonomy

import data.governor.lib.format

_agent := object.get(input, ["proposal", "agent"], "the agent")

_action := object.get(input, ["proposal", "action"], "the action")

_level := input.context.agent_level

_level_known if {
	some known in [1, 2, 3]
	_level == known
}

violations contains _autonomy("invalid_agent_level", "deny", msg) if {
	not _level_known
	msg := "the agent's autonomy level is missing or not 1, 2 or 3: nothing may execute on an unknown level"
}

violations contains _autonomy("unknown_agent", "deny", msg) if {
	not data.autonomy.agent_max_level[_agent]
	msg := sprintf("%s has no maximum autonomy level in the policy data: it may not act", [_agent])
}

# The gateway never puts an agent above its maximum (DESIGN §2); an input that does is a defect
# upstream, and a defect is no reason to trust the higher level.
violations contains _autonomy("level_above_agent_maximum", "deny", msg) if {
	_level_known
	max_level := data.autonomy.agent_max_level[_agent]
	_level > max_level
	msg := sprintf("%s is reported at autonomy level %d, above its maximum of %d", [_agent, _level, max_level])
}

# Level 1 is advisory: the agent recommends and a human carries the change out by hand. The verdict
# is `deny`, not `require_approval`, because an approval would become a grant and the agent would
# execute, which level 1 (and a pause, which demotes everyone to it) must never allow. `deny` here
# denies execution by Governor, not the advice: the proposal and its reasoning are still recorded
# and shown.
violations contains _autonomy("level_1_advisory", "deny", msg) if {
	_level == 1
	msg := sprintf("%s is at autonomy level 1 (advisory): it recommends and a human executes; Governor does not execute at level 1", [_agent])
}

# Same reasoning at any level: a recommendation is advice with no tool call behind it.
violations contains _autonomy("recommendation_only", "deny", msg) if {
	_action == "recommendation"
	msg := "a recommendation is advice for a human: Governor never executes it"
}

violations contains _autonomy("level_2_supervised", "require_approval", msg) if {
	_level == 2
	msg := sprintf("%s is at autonomy level 2 (supervised): it executes only after a human approves", [_agent])
}

violations contains _autonomy("supervised_actions_missing", "deny", msg) if {
	not _supervised_known
	msg := "the policy data has no list of supervised actions: no action can be shown to be unsupervised"
}

# Helper rules, never `not is_array(...)` inline: OPA leaves that negation undefined when the value is
# absent (observed in 1.22), so absent data would read as "no violation".
_supervised_known if is_array(data.autonomy.supervised_actions)

violations contains _autonomy("supervised_action", "require_approval", msg) if {
	_action in data.autonomy.supervised_actions
	msg := sprintf("%s is supervised at every autonomy level: a human approves it before it runs", [_action])
}

# Blast radius. Every dimension is checked on its own, so one proposal can name several.

_dimensions := {
	"tenants": "max_tenants",
	"services": "max_services",
	"capacity_change_pct": "max_capacity_change_pct",
}

_size(dim) := abs(input.proposal.blast_radius[dim])

violations contains _blast("invalid_blast_radius", "deny", msg) if {
	some dim, _ in _dimensions
	not _size(dim)
	msg := sprintf("blast_radius.%s is missing or not a number: the reach of the action is unknown", [dim])
}

violations contains _blast("blast_radius_limits_missing", "deny", msg) if {
	some level in ["2", "3"]
	some _, limit in _dimensions
	not _limit_known(level, limit)
	msg := sprintf("the policy data has no level-%s blast-radius limit %s: nothing is within an unknown limit", [level, limit])
}

_limit_known(level, limit) if is_number(data.autonomy.blast_radius[level][limit])

# Beyond the level-2 radius no approval helps, whatever the agent's level.
violations contains _blast("blast_radius_level_2", "deny", msg) if {
	some dim, limit_name in _dimensions
	limit := data.autonomy.blast_radius["2"][limit_name]
	_size(dim) > limit
	msg := sprintf("%s > %s per action at level 2 (supervised): too wide even with approval", [_amount(dim), _limit(dim, limit)])
}

# Beyond the level-3 radius but inside level 2's, a level-3 agent falls back to asking a human. A
# dimension already beyond level 2 is reported there only: one reason per dimension.
violations contains _blast("blast_radius_level_3", "require_approval", msg) if {
	_level == 3
	some dim, limit_name in _dimensions
	limit := data.autonomy.blast_radius["3"][limit_name]
	outer := data.autonomy.blast_radius["2"][limit_name]
	_size(dim) > limit
	_size(dim) <= outer
	msg := sprintf(
		"%s > %s per action at level 3 (autonomous): needs a human approval (within %s at level 2)",
		[_amount(dim), _limit(dim, limit), _limit(dim, outer)],
	)
}

_amount("capacity_change_pct") := sprintf("capacity change %s%%", [format.num(input.proposal.blast_radius.capacity_change_pct)])

_amount(dim) := sprintf("%s %s affected", [format.num(input.proposal.blast_radius[dim]), dim]) if dim != "capacity_change_pct"

# The capacity limit applies to the absolute change (DESIGN §5), hence the ±.
_limit("capacity_change_pct", limit) := sprintf("±%s%%", [format.num(limit)])

_limit(dim, limit) := format.num(limit) if dim != "capacity_change_pct"

_autonomy(rule, verdict, msg) := {"layer": "autonomy", "rule": rule, "message": msg, "verdict": verdict}

_blast(rule, verdict, msg) := {"layer": "blast_radius", "rule": rule, "message": msg, "verdict": verdict}
