# Cost: what a change does to the tenant's bill (DESIGN §4, layer 4). Rules, with the verdict each
# imposes on its own:
#   invalid_cost_data           deny              a budget figure or the cost estimate is not a number
#   cost_limits_missing         deny              the hard-ceiling percentage is missing from the data
#   budget_ceiling              require_approval  the change takes the month over the tenant's budget
#   budget_hard_ceiling         deny              ... far over it (data.cost.budget_hard_ceiling_pct)
#   invalid_reserved_instances  deny              the tenant's reserved-instance figures are unusable
#   ri_utilization_target       require_approval  a capacity reduction leaves reservations idle
#
# Inputs: context.tenant.monthly_budget_usd and month_to_date_usd (spend so far this month, from
# billing), context.estimated_monthly_cost_delta_usd (what the change adds to a month's bill,
# negative when it saves), and, for a tenant with reservations, context.tenant.reserved_instances
# {coverage_pct, utilization_target_pct}.
package governor.cost

import data.governor.lib.format

_tenant := object.get(input, ["proposal", "tenant"], "the tenant")

_action := object.get(input, ["proposal", "action"], "the action")

_target := object.get(input, ["proposal", "target", "name"], "its target")

_budget := input.context.tenant.monthly_budget_usd

_mtd := input.context.tenant.month_to_date_usd

_delta := input.context.estimated_monthly_cost_delta_usd

violations contains _violation("invalid_cost_data", "deny", msg) if {
	some field in ["context.tenant.monthly_budget_usd", "context.tenant.month_to_date_usd", "context.estimated_monthly_cost_delta_usd"]
	not _number_at(field)
	msg := sprintf("%s is missing or not a number: the change's cost cannot be checked against %s's budget", [field, _tenant])
}

_number_at(field) if is_number(object.get(input, split(field, "."), null))

violations contains _violation("cost_limits_missing", "deny", msg) if {
	not _hard_ceiling_known
	msg := "the policy data has no budget hard ceiling (data.cost.budget_hard_ceiling_pct, 100 or more): no spend is within an unknown ceiling"
}

_hard_ceiling_known if {
	is_number(data.cost.budget_hard_ceiling_pct)
	data.cost.budget_hard_ceiling_pct >= 100
}

# Budget. The month is projected as spend so far plus the change's monthly cost: a deliberately
# simple, pessimistic reading (the change is charged as if it ran the whole month) that needs no
# forecast. Only a change that costs money is held to it: a saving is never stopped for the budget.
# Over the budget a human (who can weigh the SLA) approves the spend; far over it, at the hard
# ceiling, the budget owner has to raise the budget first.
_projected := _mtd + _delta

_hard_ceiling := (_budget * data.cost.budget_hard_ceiling_pct) / 100

violations contains _violation("budget_ceiling", "require_approval", msg) if {
	_delta > 0
	_projected > _budget
	_projected <= _hard_ceiling
	msg := sprintf("%s: over budget, a human approves the extra spend", [_spend])
}

violations contains _violation("budget_hard_ceiling", "deny", msg) if {
	_delta > 0
	_projected > _hard_ceiling
	msg := sprintf(
		"%s > %s%% hard ceiling: the budget has to be raised before this spend",
		[_spend, format.num(data.cost.budget_hard_ceiling_pct)],
	)
}

_spend := sprintf(
	"%s of %s adds an estimated %s/month: month-to-date %s + %s = %s, %s %s's %s monthly budget",
	[
		_action, _target, format.usd(_delta), format.usd(_mtd), format.usd(_delta),
		format.usd(_projected), _share, _tenant, format.usd(_budget),
	],
)

_share := sprintf("%s%% of", [format.num((100 * _projected) / _budget)]) if {
	_budget > 0
} else := "over"

# Reserved instances. coverage_pct is the share of the tenant's current capacity that reservations
# pay for (FinOps "RI coverage"); it is measured against the same capacity as the proposal's
# capacity_change_pct, so both are percentages of one base. Usage of that capacity is 100% now and
# 100 + capacity_change_pct after the change, and the reservations' utilisation is
# min(100, usage / coverage). A reduction that takes it below the tenant's target leaves capacity
# idle that is paid for anyway: it saves less than it seems and may cost SLA headroom for nothing.
_ri := input.context.tenant.reserved_instances

violations contains _violation("invalid_reserved_instances", "deny", msg) if {
	_ri != null
	not _ri_valid
	msg := sprintf(
		"context.tenant.reserved_instances of %s needs coverage_pct > 0 and utilization_target_pct as numbers: the reservations cannot be checked",
		[_tenant],
	)
}

_ri_valid if {
	is_number(_ri.coverage_pct)
	_ri.coverage_pct > 0
	is_number(_ri.utilization_target_pct)
}

_utilisation(usage_pct) := max([0, min([100, (100 * usage_pct) / _ri.coverage_pct])])

violations contains _violation("ri_utilization_target", "require_approval", msg) if {
	_ri_valid
	change := input.proposal.blast_radius.capacity_change_pct
	is_number(change)
	change < 0
	after := _utilisation(100 + change)
	after < _ri.utilization_target_pct
	msg := sprintf(
		"capacity change %s%% takes %s's reserved-instance utilisation from %s%% to %s%% < %s%% target (reservations cover %s%% of its capacity): paid-for reservations would sit idle, a human approves",
		[
			format.num(change), _tenant, format.num(_utilisation(100)), format.num(after),
			format.num(_ri.utilization_target_pct), format.num(_ri.coverage_pct),
		],
	)
}

_violation(rule, verdict, msg) := {"layer": "cost", "rule": rule, "message": msg, "verdict": verdict}
